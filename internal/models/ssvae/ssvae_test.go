package ssvae

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/models/vae"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

var set = modeltest.Set

func load(t *testing.T, overrides ...config.Override) *SSVAE {
	t.Helper()
	return modeltest.New(t, "ssvae", New, nil, overrides...).(*SSVAE)
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		set  []config.Override
		want string
	}{
		{[]config.Override{set("ssvae.labels", "0")}, "ssvae.labels must be a positive multiple of 10"},
		{[]config.Override{set("ssvae.labels", "95"), set("ssvae.labelled_batch", "10")}, "ssvae.labels must be a positive multiple of 10"},
		{[]config.Override{set("ssvae.labelled_batch", "0")}, "ssvae.labelled_batch must be in [1, ssvae.labels = 100]"},
		{[]config.Override{set("ssvae.labelled_batch", "101")}, "ssvae.labelled_batch must be in [1, ssvae.labels = 100]"},
		{[]config.Override{set("ssvae.alpha", "-0.1")}, "ssvae.alpha must not be negative"},
		{[]config.Override{set("ssvae.latent_dim", "0")}, "latent_dim must be positive"},
		{[]config.Override{set("ssvae.hidden", "[]")}, "hidden non-empty"},
		{[]config.Override{set("ssvae.hidden", "[500, 0]")}, "hidden widths must be positive"},
		{[]config.Override{set("ssvae.activation", "tanh")}, `activation "tanh"`},
		{[]config.Override{set("ssvae.features", "pca")}, "ssvae.features must be pixels or m1"},
		{[]config.Override{set("ssvae.features", "m1"), set("ssvae.m1_latent_dim", "0")}, "ssvae.m1_latent_dim must be the M1 VAE's vae.latent_dim"},
		{[]config.Override{set("data.dataset", "folder"), set("data.dir", "/nowhere")}, "data.dataset must be mnist"},
	}
	for _, c := range cases {
		cfg, err := config.Load("ssvae", "", c.set)
		if err == nil {
			_, err = (models.Entry{Name: "ssvae", Build: New}).New(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.set, err, c.want)
		}
	}
}

// TestLabelledSetIsBalancedAndSeeded checks the split of the training set:
// labels/10 images of each class, the same for the same seed and another
// for another seed, and the rest returned without labels.
func TestLabelledSetIsBalancedAndSeeded(t *testing.T) {
	tr, _ := modeltest.MNIST(t, 10, false)
	split := func(seed string) (*SSVAE, *data.Dataset) {
		m := load(t, set("seed", seed))
		rest, err := m.UseTrainingSet(tr)
		if err != nil {
			t.Fatal(err)
		}
		return m, rest
	}
	m, rest := split("0")
	if m.labelled.N != 100 || rest.N != tr.N-100 || rest.Labels != nil || m.total != tr.N {
		t.Fatalf("%d labelled, %d unlabelled (labels %v) of %d, total %d", m.labelled.N, rest.N, rest.Labels != nil, tr.N, m.total)
	}
	count := make([]int, classes)
	for _, y := range m.labelled.Labels {
		count[y]++
	}
	if slices.Max(count) != 10 || slices.Min(count) != 10 {
		t.Errorf("labels per class %v, want 10 each", count)
	}
	// Every training image is in exactly one of the two sets.
	seen := map[string]int{}
	key := floatKey
	for i := range tr.N {
		seen[key(tr.Image(i))]++
	}
	for _, ds := range []*data.Dataset{m.labelled, rest} {
		for i := range ds.N {
			seen[key(ds.Image(i))]--
		}
	}
	for _, n := range seen {
		if n != 0 {
			t.Fatal("the labelled and unlabelled sets are not a split of the training set")
		}
	}
	again, _ := split("0")
	other, _ := split("1")
	if !slices.Equal(again.labelled.Pixels, m.labelled.Pixels) {
		t.Error("the same seed picked other labelled images")
	}
	if slices.Equal(other.labelled.Pixels, m.labelled.Pixels) {
		t.Error("another seed picked the same labelled images")
	}
}

// floatKey is an image's pixels as bytes, a map key.
func floatKey(img []float32) string {
	b := make([]byte, 0, len(img))
	for _, v := range img {
		b = append(b, byte(v*255+0.5))
	}
	return string(b)
}

func TestTooFewImagesOfAClass(t *testing.T) {
	ds := &data.Dataset{Name: "sevens", N: 50, H: 28, W: 28, Pixels: make([]float32, 50*784), Labels: slices.Repeat([]uint8{7}, 50)}
	if _, err := load(t).UseTrainingSet(ds); err == nil || !strings.Contains(err.Error(), "has 0 images of class 0") {
		t.Errorf("error %v, want one naming the missing class", err)
	}
	ds.Labels = nil
	if _, err := load(t).UseTrainingSet(ds); err == nil || !strings.Contains(err.Error(), "no labels") {
		t.Errorf("error %v, want one saying the set has no labels", err)
	}
}

// TestTrainingLearnsTheLabels trains briefly on real MNIST and checks that
// q(y|x) classifies far better than chance and the bounds are finite.
func TestTrainingLearnsTheLabels(t *testing.T) {
	m := load(t, set("ssvae.hidden", "[200]"), set("ssvae.labelled_batch", "50"), set("eval.batch_size", "250"))
	tr, te := modeltest.MNIST(t, 500, false)
	rest, err := m.UseTrainingSet(tr)
	if err != nil {
		t.Fatal(err)
	}
	rng := modeltest.RNG(7)
	b := train.Batch{X: make([]float32, 100*784), Size: 100, H: 28, W: 28}
	for s := 0; s < 40; s++ {
		order := data.EpochOrder(1, s/19, rest.N)
		rest.FillBatch(b.X, nil, order, s%19, 100)
		ms, err := m.TrainStep(b, int64(s), rng)
		if err != nil {
			t.Fatal(err)
		}
		if s == 0 && (ms[0].Name != "loss" || len(ms) != 4) {
			t.Fatalf("metrics %v", ms)
		}
	}
	ms, err := m.TestMetrics(te, modeltest.RNG(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after 40 steps: %v", ms)
	if ms[0].Name != "error" || !(ms[0].Value < 0.5) {
		t.Errorf("test error %v, want below 0.5 (chance: 0.9)", ms[0])
	}
	for _, x := range ms[1:3] {
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) || x.Value < 50 {
			t.Errorf("%s = %v, want a finite bound of tens of nats or more", x.Name, x.Value)
		}
	}
	if ms[3].Name != "elbo_error" || !(ms[3].Value >= 0 && ms[3].Value <= 1) {
		t.Errorf("elbo error %v, want a share", ms[3])
	}
}

// TestDrawKinds renders every picture kind of a fresh model and checks
// sizes, layouts and the options each kind refuses.
func TestDrawKinds(t *testing.T) {
	m := load(t)
	_, te := modeltest.MNIST(t, 100, false)
	rng := modeltest.RNG(5)
	cases := []struct {
		req      sample.Request
		n, ncols int
	}{
		{sample.Request{Kind: "prior", N: 16, Class: -1, Code: -1}, 16, 10},
		{sample.Request{Kind: "prior", N: 16, Class: 3, Code: -1}, 16, 8},
		{sample.Request{Kind: "analogies", N: 3, Class: -1, Code: -1}, 30, 10},
		{sample.Request{Kind: "style", N: 4, Class: -1, Code: -1, Test: te}, 44, 11},
	}
	for _, c := range cases {
		d, err := models.Draw(m, "ssvae", c.req, rng)
		if err != nil {
			t.Fatalf("%+v: %v", c.req, err)
		}
		if imgs := d.Images; imgs.N != c.n || imgs.H != 28 || len(imgs.Pix) != c.n*784 || d.Grid.NRow != c.ncols {
			t.Errorf("%s class %d: %d images %dx%d in rows of %d, want %d in rows of %d", c.req.Kind, c.req.Class, imgs.N, imgs.H, imgs.W, d.Grid.NRow, c.n, c.ncols)
		}
		for _, v := range d.Images.Pix {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s: pixel %v outside [0, 1]", c.req.Kind, v)
			}
		}
	}
	for _, req := range []sample.Request{
		{Kind: "analogies", N: 2, Class: 3, Code: -1},
		{Kind: "prior", N: 4, Class: 10, Code: -1},
		{Kind: "prior", N: 4, Class: -1, Code: 1},
		{Kind: "prior", N: 4, Class: -1, Code: -1, Temperature: 0.5},
		{Kind: "style", N: 4, Class: -1, Code: -1},
		{Kind: "recon", N: 4, Class: -1, Code: -1},
	} {
		if _, err := models.Draw(m, "ssvae", req, rng); err == nil {
			t.Errorf("%+v accepted", req)
		}
	}
}

// TestStepsNeedTheTrainingSet checks the error of a model stepped without
// the loop's hand-over of the training set.
func TestStepsNeedTheTrainingSet(t *testing.T) {
	if _, err := load(t).TrainStep(modeltest.NoiseBatch(100), 0, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a step without labelled images ran")
	}
}

// TestM1PlusM2 trains M1 and then M2 over its latents briefly on real
// MNIST and checks the pieces M1 adds: the Gaussian head, q(y|z1) learning
// the labels, samples decoded by M1 as images, and the errors of a
// mismatched or misplaced M1.
func TestM1PlusM2(t *testing.T) {
	tr, te := modeltest.MNIST(t, 500, false)
	m1 := modeltest.New(t, "vae", vae.New, nil, set("vae.latent_dim", "8")).(*vae.VAE)
	rng := modeltest.RNG(7)
	b := train.Batch{X: make([]float32, 100*784), Size: 100, H: 28, W: 28}
	for s := 0; s < 100; s++ {
		tr.FillBatch(b.X, nil, data.EpochOrder(2, s/5, tr.N), s%5, 100)
		if _, err := m1.TrainStep(b, int64(s), rng); err != nil {
			t.Fatal(err)
		}
	}
	deps := models.Trained{M1Dependency.Name: m1}
	m := modeltest.New(t, "ssvae", New, deps, set("ssvae.features", "m1"), set("ssvae.m1_latent_dim", "8"),
		set("ssvae.hidden", "[100]"), set("ssvae.labelled_batch", "50"), set("eval.batch_size", "250")).(*SSVAE)
	if m.Net.DecoderLogVar == nil || m.Net.Config.InputDim != 8 {
		t.Fatalf("M2 over 8 latents: input %d, Gaussian head %v", m.Net.Config.InputDim, m.Net.DecoderLogVar != nil)
	}
	rest, err := m.UseTrainingSet(tr)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 60; s++ {
		order := data.EpochOrder(1, s/19, rest.N)
		rest.FillBatch(b.X, nil, order, s%19, 100)
		if _, err := m.TrainStep(b, int64(s), rng); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := m.TestMetrics(te, modeltest.RNG(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after 60 steps: %v", ms)
	if ms[0].Name != "error" || !(ms[0].Value < 0.8) {
		t.Errorf("test error %v, want below 0.8 (chance: 0.9)", ms[0])
	}
	for _, x := range ms[1:3] {
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			t.Errorf("%s = %v, want a finite bound", x.Name, x.Value)
		}
	}
	for _, req := range []sample.Request{
		{Kind: "prior", N: 12, Class: -1, Code: -1},
		{Kind: "style", N: 2, Class: -1, Code: -1, Test: te},
	} {
		d, err := models.Draw(m, "ssvae", req, rng)
		if err != nil {
			t.Fatalf("%s: %v", req.Kind, err)
		}
		if d.Images.H != 28 || d.Images.W != 28 || len(d.Images.Pix) != d.Images.N*784 {
			t.Errorf("%s: %d images of %dx%d", req.Kind, d.Images.N, d.Images.H, d.Images.W)
		}
	}
	// An M1 of another latent size is refused at its first use, naming the
	// key to set; --m1 beside pixel features at once.
	wrong := modeltest.New(t, "ssvae", New, deps, set("ssvae.features", "m1"), set("ssvae.m1_latent_dim", "5")).(*SSVAE)
	if _, err := wrong.Samples(2, rng); err == nil || !strings.Contains(err.Error(), "ssvae.m1_latent_dim") {
		t.Errorf("an M1 of 8 latents for 5: %v", err)
	}
	cfg := modeltest.Config(t, "ssvae")
	if _, err := (models.Entry{Name: "ssvae", Build: New}).New(cfg, deps); err == nil || !strings.Contains(err.Error(), "--m1") {
		t.Errorf("--m1 with pixel features: %v", err)
	}
}
