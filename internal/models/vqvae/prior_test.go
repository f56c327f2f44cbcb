package vqvae

import (
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/safetensors"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// smallPrior is a prior over the codes of the small VQ-VAE (16 codes).
var smallPrior = []config.Override{set("prior.codebook_size", "16"), set("prior.channels", "8"), set("prior.layers", "3"),
	set("prior.head", "16"), set("eval.batch_size", "50")}

func loadPrior(t *testing.T, ae *VQVAE, overrides ...config.Override) *Prior {
	t.Helper()
	var deps models.Loader
	if ae != nil {
		deps = models.Trained{"vqvae": ae}
	}
	return modeltest.New(t, "vqvae-prior", NewPrior, deps, append(slices.Clone(smallPrior), overrides...)...).(*Prior)
}

// trainedAE is the small VQ-VAE after a few steps on real digits, so that
// its codes vary from image to image.
func trainedAE(t *testing.T, seed string) *VQVAE {
	t.Helper()
	m := load(t, set("seed", seed))
	tr, _ := modeltest.MNIST(t, 1, false)
	b := train.Batch{X: make([]float32, 32*784), Size: 32, H: 28, W: 28}
	for s := range 10 {
		copy(b.X, tr.Pixels[s*32*784:])
		if _, err := m.TrainStep(b, int64(s), modeltest.RNG(uint64(s))); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestPriorConfigErrors(t *testing.T) {
	cases := []struct {
		set  []config.Override
		want string
	}{
		{[]config.Override{set("prior.codebook_size", "1")}, "categories must be at least 2"},
		{[]config.Override{set("prior.kernel", "4")}, "kernels must be odd"},
		{[]config.Override{set("data.dataset", "folder"), set("data.dir", "/nowhere"), set("data.image_size", "30")}, "multiple of 4"},
	}
	for _, c := range cases {
		cfg, err := config.Load("vqvae-prior", "", c.set)
		if err == nil {
			_, err = (models.Entry{Name: "vqvae-prior", Build: NewPrior}).New(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.set, err, c.want)
		}
	}
	// Without its VQ-VAE the prior builds (export, checks) but cannot train.
	p := loadPrior(t, nil)
	tr, _ := modeltest.MNIST(t, 1, false)
	if _, err := p.UseTrainingSet(tr.Limit(10)); err == nil || !strings.Contains(err.Error(), "--vqvae PATH (or --set prior.vqvae=PATH)") {
		t.Errorf("training with no VQ-VAE: %v", err)
	}
}

// TestPriorLearnsTheCodes trains the prior on a VQ-VAE's codes of real
// digits: the training set it sees is their code grids, and the exact test
// NLL starts near 49 log K nats (uniform logits) and falls well below it.
func TestPriorLearnsTheCodes(t *testing.T) {
	ae := trainedAE(t, "0")
	p := loadPrior(t, ae, set("train.lr", "0.01"))
	tr, te := modeltest.MNIST(t, 200, false)
	codes, err := p.UseTrainingSet(tr)
	if err != nil {
		t.Fatal(err)
	}
	if codes.N != tr.N || codes.H != 7 || codes.W != 7 || !slices.Equal(codes.Labels, tr.Labels) {
		t.Fatalf("code set %d of %dx%d, want %d of 7x7 with the labels", codes.N, codes.H, codes.W, tr.N)
	}
	want, err := ae.EncodeCodes(tr.Pixels, tr.N)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range want {
		if codes.Pixels[i] != float32(c) {
			t.Fatalf("code %d is %g, the VQ-VAE encodes %d", i, codes.Pixels[i], c)
		}
	}
	before, err := p.TestMetrics(te, nil)
	if err != nil {
		t.Fatal(err)
	}
	uniform := 49 * 2.772588722239781 // 49 log 16
	if before[0].Value < 0.8*uniform || before[0].Value > 1.2*uniform {
		t.Errorf("untrained test nll %g, want near 49 log 16 = %g", before[0].Value, uniform)
	}
	b := train.Batch{X: make([]float32, 32*49), Size: 32, H: 7, W: 7}
	for s := range 40 {
		lo := (s * 32) % (codes.N - 32)
		copy(b.X, codes.Pixels[lo*49:(lo+32)*49])
		if _, err := p.TrainStep(b, int64(s), modeltest.RNG(1)); err != nil {
			t.Fatal(err)
		}
	}
	after, err := p.TestMetrics(te, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(after[0].Value < 0.7*before[0].Value) {
		t.Errorf("test nll %g after training, %g before: it did not learn", after[0].Value, before[0].Value)
	}
	b.X[5] = 16
	if _, err := p.TrainStep(b, 41, modeltest.RNG(1)); err == nil || !strings.Contains(err.Error(), "no code") {
		t.Errorf("a batch value outside the codebook: %v", err)
	}
}

// TestPriorRefusesAnotherVQVAE checks the binding: a prior trained on one
// VQ-VAE's codes refuses to draw for, or keep training on, another.
func TestPriorRefusesAnotherVQVAE(t *testing.T) {
	a, b := trainedAE(t, "0"), trainedAE(t, "1")
	p := loadPrior(t, a)
	if err := p.Matches(a); err != nil {
		t.Fatalf("binding an unbound prior: %v", err)
	}
	if slices.Equal(p.CodeNorms.Data, make([]float32, len(p.CodeNorms.Data))) {
		t.Fatal("the bound prior keeps no code norms")
	}
	if err := p.Matches(a); err != nil {
		t.Errorf("the prior refuses its own VQ-VAE: %v", err)
	}
	if err := p.Matches(b); err == nil || !strings.Contains(err.Error(), "another VQ-VAE") {
		t.Errorf("another VQ-VAE: %v", err)
	}
	other := loadPrior(t, b, set("prior.codebook_size", "8"))
	if err := other.Matches(b); err == nil || !strings.Contains(err.Error(), "prior.codebook_size") {
		t.Errorf("a prior of 8 codes over 16: %v", err)
	}
	// A prior given to a VQ-VAE that would not draw from it.
	if _, err := (models.Entry{Name: "vqvae", Build: New}).New(modeltest.Config(t, "vqvae", small...), models.Trained{"code-prior": p}); err == nil ||
		!strings.Contains(err.Error(), "--set vqvae.prior=pixelcnn") {
		t.Errorf("--code-prior with the histogram prior: %v", err)
	}
	// Drawn through the VQ-VAE's pixelcnn prior.
	vq := modeltest.New(t, "vqvae", New, models.Trained{"code-prior": p}, append(slices.Clone(small), set("seed", "1"), set("vqvae.prior", "pixelcnn"))...).(*VQVAE)
	copy(vq.Net.Codebook.Embed.Data, b.Net.Codebook.Embed.Data)
	if _, err := vq.Draw(sample.Request{Kind: "prior", N: 2}, modeltest.RNG(1)); err == nil || !strings.Contains(err.Error(), "another VQ-VAE") {
		t.Errorf("a vqvae drawing with a prior of other codes: %v", err)
	}
}

// TestPriorDraws draws from a briefly trained prior: codes in range, the
// same draws for the same generator, and every picture kind the right size;
// the VQ-VAE with vqvae.prior pixelcnn decodes the prior's draws.
func TestPriorDraws(t *testing.T) {
	ae := trainedAE(t, "0")
	p := loadPrior(t, ae)
	if err := p.Matches(ae); err != nil {
		t.Fatal(err)
	}
	codes, err := p.DrawCodes(103, modeltest.RNG(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 103*49 {
		t.Fatalf("%d codes, want %d", len(codes), 103*49)
	}
	seen := map[int32]bool{}
	for _, c := range codes {
		if c < 0 || c >= 16 {
			t.Fatalf("code %d outside the codebook", c)
		}
		seen[c] = true
	}
	if len(seen) < 8 {
		t.Errorf("an untrained prior drew only %d distinct codes of 16", len(seen))
	}
	again, err := p.DrawCodes(103, modeltest.RNG(5))
	if err != nil || !slices.Equal(codes, again) {
		t.Errorf("the same generator drew other codes (%v)", err)
	}
	for _, c := range []struct {
		kind string
		n    int
	}{{"samples", 5}, {"codes", 3}} {
		d, err := models.Draw(p, "vqvae-prior", sample.Request{Kind: c.kind, N: c.n, Class: -1, Code: -1}, modeltest.RNG(2))
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		want := c.n
		if c.kind == "codes" {
			want = 2 * c.n
		}
		if d.Images.N != want || d.Images.H != 28 || len(d.Images.Pix) != want*784 {
			t.Errorf("%s: %d images of %dx%d, want %d of 28x28", c.kind, d.Images.N, d.Images.H, d.Images.W, want)
		}
	}
	vq := modeltest.New(t, "vqvae", New, models.Trained{"code-prior": p}, append(slices.Clone(small), set("vqvae.prior", "pixelcnn"))...).(*VQVAE)
	copy(vq.Net.Codebook.Embed.Data, ae.Net.Codebook.Embed.Data)
	got, err := vq.prior(4, modeltest.RNG(9))
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := p.DrawCodes(4, modeltest.RNG(9))
	if err != nil {
		t.Fatal(err)
	}
	want, err := vq.DecodeCodes(drawn)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Pix, want.Pix) {
		t.Error("the vqvae's pixelcnn prior does not decode the prior's draws")
	}
}

// TestPriorMatchesPyTorch loads the prior's state_dict into
// scripts/load_in_pytorch.py's GatedPixelCNN over K one-hot categories,
// with the code norms as a buffer (strict=True), and compares the logits of
// two grids of codes.
func TestPriorMatchesPyTorch(t *testing.T) {
	ae := trainedAE(t, "0")
	p := loadPrior(t, ae)
	if err := p.Matches(ae); err != nil {
		t.Fatal(err)
	}
	s, err := p.Net.Build(2)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits})
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]int, 2*49)
	for i := range codes {
		codes[i] = (i * 7) % 16
	}
	s.SetValues(codes)
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	ours := prog.Value(s.Logits)
	c := p.cfg
	arch := []float32{float32(c.Channels), float32(c.Layers), float32(c.FirstKernel), float32(c.Kernel), float32(c.Head), 0,
		float32(c.CodebookSize), float32(c.CodebookSize)}
	tensors := append(modeltest.StateDict(p.Params()),
		safetensors.Tensor{Name: "arch", Shape: []int{len(arch)}, Data: arch},
		safetensors.Tensor{Name: "input.x", Shape: []int{2, 16, 7, 7}, Data: s.X},
		safetensors.Tensor{Name: "input.y", Shape: []int{2}, Data: []float32{0, 0}})
	theirs := modeltest.RunPyTorch(t, "pixelcnn_in_pytorch.py", "", tensors, "logits")
	if worst := modeltest.MaxAbsDiff(t, ours, theirs); worst > 1e-4 {
		t.Errorf("logits differ from PyTorch's by up to %.3g", worst)
	}
}
