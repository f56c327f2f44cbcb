package vqvae

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

var set = modeltest.Set

// small shrinks the networks for tests.
var small = []config.Override{set("vqvae.channels", "8"), set("vqvae.res_channels", "4"), set("vqvae.res_blocks", "1"),
	set("vqvae.embedding_dim", "4"), set("vqvae.codebook_size", "16")}

func load(t *testing.T, overrides ...config.Override) *VQVAE {
	t.Helper()
	return modeltest.New(t, "vqvae", New, nil, append(slices.Clone(small), overrides...)...).(*VQVAE)
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		set  []config.Override
		want string
	}{
		{[]config.Override{set("vqvae.beta", "-1")}, "vqvae.beta must not be negative"},
		{[]config.Override{set("vqvae.ema_decay", "1")}, "vqvae.ema_decay must be in [0, 1)"},
		{[]config.Override{set("vqvae.ema_epsilon", "0")}, "vqvae.ema_epsilon must be positive"},
		{[]config.Override{set("vqvae.dead_after", "0")}, "vqvae.dead_after must be a positive number"},
		{[]config.Override{set("vqvae.prior", "transformer")}, `vqvae.prior must be "pixelcnn", "histogram" or "uniform"`},
		{[]config.Override{set("vqvae.codebook_size", "1")}, "codebook_size at least 2"},
		{[]config.Override{set("data.dataset", "folder"), set("data.dir", "/nowhere"), set("data.image_size", "30")}, "multiple of 4"},
	}
	for _, c := range cases {
		cfg, err := config.Load("vqvae", "", c.set)
		if err == nil {
			_, err = (models.Entry{Name: "vqvae", Build: New}).New(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.set, err, c.want)
		}
	}
}

// testCodebook is a codebook of k codes of d dimensions with random codes
// and averages and a random count history.
func testCodebook(k, d int, rng *rand.Rand) *nets.VQCodebook {
	m, err := nets.NewVQVAE(nets.VQVAEConfig{Side: 4, Channels: 1, ResChannels: 1, EmbedDim: d, Codes: k}, rng)
	if err != nil {
		panic(err)
	}
	cb := m.Codebook
	for j := range cb.ClusterSize.Data {
		cb.ClusterSize.Data[j] = float32(rng.IntN(5))
		for c := 0; c < d; c++ {
			cb.EmbedAvg.Data[j*d+c] = float32(rng.NormFloat64())
		}
	}
	return cb
}

// TestEMAUpdateMath checks one codebook step against the paper's
// equations written out in float64 for a hand-made batch: two images of
// three positions, codes 0, 2, 2 / 2, 0, 3 of four (code 1 unpicked).
func TestEMAUpdateMath(t *testing.T) {
	const k, d, p = 4, 2, 3
	cb := testCodebook(k, d, rand.New(rand.NewPCG(1, 1)))
	size0, avg0 := slices.Clone(cb.ClusterSize.Data), slices.Clone(cb.EmbedAvg.Data)
	cb.Unused.Data[1] = 5
	idx := []int32{0, 2, 2, 2, 0, 3}
	ze := make([]float32, 2*d*p) // (B, D, P)
	for i := range ze {
		ze[i] = float32(i) - 5
	}
	cfg := emaConfig{Decay: 0.9, Epsilon: 0.1, DeadAfter: 100}
	if n := updateCodebook(cb, ze, idx, p, cfg, rand.New(rand.NewPCG(2, 2))); n != 0 {
		t.Fatalf("%d codes restarted, want none", n)
	}
	// z_i: row i = (b, q) holds ze[(b*d+c)*p+q].
	row := func(i int) []float64 {
		b, q := i/p, i%p
		return []float64{float64(ze[(b*d+0)*p+q]), float64(ze[(b*d+1)*p+q])}
	}
	var n [k]float64
	var sum [k][d]float64
	for i, c := range idx {
		n[c]++
		for ch, v := range row(i) {
			sum[c][ch] += v
		}
	}
	var size [k]float64
	var total float64
	for j := 0; j < k; j++ {
		size[j] = 0.9*float64(size0[j]) + 0.1*n[j]
		total += size[j]
	}
	for j := 0; j < k; j++ {
		if math.Abs(float64(cb.ClusterSize.Data[j])-size[j]) > 1e-5 {
			t.Errorf("cluster_size[%d] = %v, want %v", j, cb.ClusterSize.Data[j], size[j])
		}
		smoothed := (size[j] + 0.1) / (total + 4*0.1) * total
		for ch := 0; ch < d; ch++ {
			avg := 0.9*float64(avg0[j*d+ch]) + 0.1*sum[j][ch]
			if math.Abs(float64(cb.EmbedAvg.Data[j*d+ch])-avg) > 1e-5 {
				t.Errorf("embed_avg[%d][%d] = %v, want %v", j, ch, cb.EmbedAvg.Data[j*d+ch], avg)
			}
			if e := avg / smoothed; math.Abs(float64(cb.Embed.Data[j*d+ch])-e) > 1e-5*math.Max(1, math.Abs(e)) {
				t.Errorf("embed[%d][%d] = %v, want %v", j, ch, cb.Embed.Data[j*d+ch], e)
			}
		}
	}
	if want := []float32{0, 6, 0, 0}; !slices.Equal(cb.Unused.Data, want) {
		t.Errorf("unused = %v, want %v", cb.Unused.Data, want)
	}
}

// TestDeadCodesRestart checks that a code unpicked for DeadAfter steps is
// reset to one of the batch's encoder outputs, with its averages and its
// counter, and that the others are left to the EMA.
func TestDeadCodesRestart(t *testing.T) {
	const k, d, p = 4, 2, 3
	cb := testCodebook(k, d, rand.New(rand.NewPCG(3, 3)))
	idx := []int32{0, 2, 2, 2, 0, 3}
	ze := make([]float32, 2*d*p)
	for i := range ze {
		ze[i] = float32(i)*0.5 + 1
	}
	cfg := emaConfig{Decay: 0.99, Epsilon: 1e-5, DeadAfter: 3}
	rng := rand.New(rand.NewPCG(4, 4))
	for step := 1; step <= 3; step++ {
		n := updateCodebook(cb, ze, idx, p, cfg, rng)
		if want := map[bool]int{true: 1, false: 0}[step == 3]; n != want {
			t.Fatalf("step %d: %d codes restarted, want %d", step, n, want)
		}
		if step < 3 && cb.Unused.Data[1] != float32(step) {
			t.Fatalf("step %d: code 1 unused for %v steps", step, cb.Unused.Data[1])
		}
	}
	if cb.Unused.Data[1] != 0 || cb.ClusterSize.Data[1] != 1 {
		t.Errorf("restarted code: unused %v, cluster_size %v; want 0 and 1", cb.Unused.Data[1], cb.ClusterSize.Data[1])
	}
	code := cb.Embed.Data[d : 2*d]
	if !slices.Equal(code, cb.EmbedAvg.Data[d:2*d]) {
		t.Errorf("restarted code %v, its average %v: want equal", code, cb.EmbedAvg.Data[d:2*d])
	}
	found := false
	for i := 0; i < 2*p; i++ {
		b, q := i/p, i%p
		if code[0] == ze[(b*d)*p+q] && code[1] == ze[(b*d+1)*p+q] {
			found = true
		}
	}
	if !found {
		t.Errorf("restarted code %v is no encoder output of the batch", code)
	}
}

// TestFirstStepRestartsUnpickedCodes checks the data-dependent start: every
// code begins dead, so the first step moves all the codes its batch does
// not pick onto encoder outputs.
func TestFirstStepRestartsUnpickedCodes(t *testing.T) {
	m := load(t)
	ms, err := m.TrainStep(modeltest.NoiseBatch(32), 0, modeltest.RNG(1))
	if err != nil {
		t.Fatal(err)
	}
	used, restarts := metric(t, ms, "codes_used"), metric(t, ms, "restarts")
	if used+restarts != 16 {
		t.Errorf("%v codes used and %v restarted of 16 at the first step, want all", used, restarts)
	}
}

func metric(t *testing.T, ms []train.Metric, name string) float64 {
	t.Helper()
	i := slices.IndexFunc(ms, func(x train.Metric) bool { return x.Name == name })
	if i < 0 {
		t.Fatalf("no %s in %v", name, ms)
	}
	return ms[i].Value
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		counts     []int
		perplexity float64
		used       int
	}{
		{[]int{5, 5, 5, 5}, 4, 4},
		{[]int{0, 7, 0, 0}, 1, 1},
		{[]int{1, 1, 0, 2}, math.Exp(1.5 * math.Log(2)), 3},
	} {
		p, u := usage(c.counts)
		if math.Abs(p-c.perplexity) > 1e-9 || u != c.used {
			t.Errorf("usage(%v) = %v, %d; want %v, %d", c.counts, p, u, c.perplexity, c.used)
		}
	}
}

// TestHistogramPrior draws codes in proportion to the codebook's counts.
func TestHistogramPrior(t *testing.T) {
	m := load(t)
	if got := m.Prior.Draw; got == nil {
		t.Fatal("no prior")
	}
	// An untrained codebook (zero counts) falls back to uniform draws.
	codes, err := m.Prior.Draw(20, 7, modeltest.RNG(1))
	if err != nil || len(codes) != 20*49 {
		t.Fatalf("%d codes, %v", len(codes), err)
	}
	if _, used := usage(histogram(codes, 16)); used < 12 {
		t.Errorf("an untrained codebook's prior drew %d codes of 16, want nearly all", used)
	}
	clear(m.Net.Codebook.ClusterSize.Data)
	m.Net.Codebook.ClusterSize.Data[3], m.Net.Codebook.ClusterSize.Data[9] = 3, 1
	codes, err = m.Prior.Draw(200, 7, modeltest.RNG(2))
	if err != nil {
		t.Fatal(err)
	}
	n := histogram(codes, 16)
	if n[3]+n[9] != len(codes) || math.Abs(float64(n[3])/float64(len(codes))-0.75) > 0.02 {
		t.Errorf("counts %v, want codes 3 and 9 only, 3 to 1", n)
	}
	u := load(t, set("vqvae.prior", "uniform"))
	if !strings.Contains(u.Prior.Describe(), "uniformly") || !strings.Contains(m.Prior.Describe(), "usage") {
		t.Errorf("descriptions %q, %q", u.Prior.Describe(), m.Prior.Describe())
	}
}

// fixedPrior draws grids of one code: a stand-in for a trained prior.
type fixedPrior struct{ code int32 }

func (f fixedPrior) Describe() string { return "fixed" }
func (f fixedPrior) Draw(n, side int, _ *rand.Rand) ([]int32, error) {
	return slices.Repeat([]int32{f.code}, n*side*side), nil
}

// TestPluggedPriorIsDecoded checks that samples decode what the model's
// CodePrior draws: a prior plugged in later takes effect.
func TestPluggedPriorIsDecoded(t *testing.T) {
	m := load(t)
	m.Prior = fixedPrior{code: 5}
	d, err := models.Draw(m, "vqvae", sample.Request{Kind: "prior", N: 3, Class: -1, Code: -1}, modeltest.RNG(1))
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.DecodeCodes(slices.Repeat([]int32{5}, 3*49))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Images.Pix, want.Pix) {
		t.Error("the samples are not the decoded codes of the plugged prior")
	}
	m.Prior = fixedPrior{code: 16}
	if _, err := models.Draw(m, "vqvae", sample.Request{Kind: "prior", N: 3, Class: -1, Code: -1}, modeltest.RNG(1)); err == nil {
		t.Error("a code outside the codebook was decoded")
	}
}

// TestTrainingReconstructs trains briefly on real MNIST and checks that the
// test reconstruction error falls below that of the untrained model and
// that the codebook is in use.
func TestTrainingReconstructs(t *testing.T) {
	m := load(t, set("vqvae.channels", "16"), set("vqvae.res_channels", "8"), set("vqvae.dead_after", "10"))
	tr, te := modeltest.MNIST(t, 200, false)
	before, err := m.TestMetrics(te, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := modeltest.RNG(7)
	b := train.Batch{X: make([]float32, 32*784), Size: 32, H: 28, W: 28}
	for s := 0; s < 60; s++ {
		order := data.EpochOrder(1, s/64, tr.N)
		tr.FillBatch(b.X, nil, order, s%64, 32)
		ms, err := m.TrainStep(b, int64(s), rng)
		if err != nil {
			t.Fatal(err)
		}
		if s == 0 && (ms[0].Name != "loss" || len(ms) != 6) {
			t.Fatalf("metrics %v", ms)
		}
	}
	after, err := m.TestMetrics(te, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test metrics before %v, after 60 steps %v", before, after)
	if after[0].Name != "mse" || !(after[0].Value < 0.6*before[0].Value) {
		t.Errorf("test mse %v after training, %v before: want well below", after[0].Value, before[0].Value)
	}
	if after[1].Value < 2 || after[2].Value < 4 {
		t.Errorf("perplexity %v, %v codes used: the codebook collapsed", after[1].Value, after[2].Value)
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
		{sample.Request{Kind: "prior", N: 16, Class: -1, Code: -1}, 16, 8},
		{sample.Request{Kind: "recon", N: 7, Class: -1, Code: -1, Test: te}, 14, 10},
		{sample.Request{Kind: "recon", N: 2, Class: -1, Code: -1, Test: te}, 4, 4},
	}
	for _, c := range cases {
		d, err := models.Draw(m, "vqvae", c.req, rng)
		if err != nil {
			t.Fatalf("%+v: %v", c.req, err)
		}
		if imgs := d.Images; imgs.N != c.n || imgs.H != 28 || len(imgs.Pix) != c.n*784 || d.Grid.NRow != c.ncols {
			t.Errorf("%s: %d images %dx%d in rows of %d, want %d in rows of %d", c.req.Kind, imgs.N, imgs.H, imgs.W, d.Grid.NRow, c.n, c.ncols)
		}
		for _, v := range d.Images.Pix {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s: pixel %v outside [0, 1]", c.req.Kind, v)
			}
		}
		if c.req.Kind == "recon" {
			if !slices.Equal(d.Images.Pix[:784], te.Image(0)) || !slices.Equal(d.Images.Pix[2*784:3*784], te.Image(1)) {
				t.Error("recon: the originals are not the test digits, in pairs")
			}
		}
	}
	for _, req := range []sample.Request{
		{Kind: "prior", N: 4, Class: 3, Code: -1},
		{Kind: "prior", N: 4, Class: -1, Code: 1},
		{Kind: "prior", N: 4, Class: -1, Code: -1, Temperature: 0.5},
		{Kind: "recon", N: 4, Class: -1, Code: -1},
		{Kind: "style", N: 4, Class: -1, Code: -1},
	} {
		if _, err := models.Draw(m, "vqvae", req, rng); err == nil {
			t.Errorf("%+v accepted", req)
		}
	}
}

// TestEpochGridShowsTrainingReconstructions checks the training loop's
// picture: the first training digits, each beside its reconstruction.
func TestEpochGridShowsTrainingReconstructions(t *testing.T) {
	m := load(t)
	tr, _ := modeltest.MNIST(t, 1, false)
	if _, err := m.UseTrainingSet(tr); err != nil {
		t.Fatal(err)
	}
	imgs, err := m.Samples(10, modeltest.RNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if imgs.N != 10 || !slices.Equal(imgs.Pix[:784], tr.Image(0)) || !slices.Equal(imgs.Pix[8*784:9*784], tr.Image(4)) {
		t.Errorf("%d images; want 5 training digits, each followed by its reconstruction", imgs.N)
	}
	if m.GridOptions().NRow%2 != 0 {
		t.Error("a grid row splits a pair")
	}
}

// TestCheckpointRoundTrip saves a model whose codebook state has moved and
// loads it into a fresh one: the EMA buffers come back bit for bit.
func TestCheckpointRoundTrip(t *testing.T) {
	m := load(t)
	for s := 0; s < 3; s++ {
		if _, err := m.TrainStep(modeltest.NoiseBatch(16), int64(s), modeltest.RNG(uint64(s))); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "checkpoints")
	path, err := checkpoint.Save(dir, m.Params(), m.Optimizers(), checkpoint.Meta{Model: "vqvae", Step: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	fresh := load(t, set("seed", "9"))
	if _, err := checkpoint.LoadWeights(path, "vqvae", fresh.Params()); err != nil {
		t.Fatal(err)
	}
	cb, got := m.Net.Codebook, fresh.Net.Codebook
	for _, pair := range [][2][]float32{{cb.Embed.Data, got.Embed.Data}, {cb.ClusterSize.Data, got.ClusterSize.Data},
		{cb.EmbedAvg.Data, got.EmbedAvg.Data}, {cb.Unused.Data, got.Unused.Data}} {
		if !slices.Equal(pair[0], pair[1]) {
			t.Fatalf("a codebook buffer did not survive the round trip: %v vs %v", pair[0][:4], pair[1][:4])
		}
	}
	if slices.Equal(cb.Unused.Data, make([]float32, cb.K)) && slices.Equal(cb.ClusterSize.Data, make([]float32, cb.K)) {
		t.Error("the buffers never moved: the test checks nothing")
	}
}

// TestEncodeCodesMatchesReconstruction checks the codes a prior would train
// on: decoding them gives the reconstructions, and the count and layout
// are [n, 7, 7] for a number of images that is no multiple of the chunk.
func TestEncodeCodesMatchesReconstruction(t *testing.T) {
	m := load(t)
	tr, _ := modeltest.MNIST(t, 1, false)
	const n = 103
	codes, err := m.EncodeCodes(tr.Pixels, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != n*49 {
		t.Fatalf("%d codes, want %d", len(codes), n*49)
	}
	dec, err := m.DecodeCodes(codes)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.reconstruct(tr.Pixels, n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dec.Pix, rec.Pix) {
		t.Error("decoding the encoded codes does not give the reconstructions")
	}
	if _, err := m.EncodeCodes(tr.Pixels[:100], 1); err == nil {
		t.Error("100 pixels encoded as an image")
	}
}
