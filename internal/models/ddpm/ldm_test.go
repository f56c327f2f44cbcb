package ddpm

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/models/vqvae"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// smallLDMSets shrink the ldm and its diffusion for tests, over the small
// VQ-VAE of smallAE (4 channels, 16 codes).
var smallLDMSets = []config.Override{set("ldm.channels", "8"), set("ldm.time_embed", "16"), set("ldm.groups", "2"),
	set("ldm.latent_channels", "4"), set("ldm.codebook_size", "16"), set("ldm.timesteps", "100"),
	set("ldm.grid_steps", "4"), set("ldm.sample_steps", "4")}

// smallAE is a small VQ-VAE after a few steps on real digits, so that its
// latents vary from image to image.
func smallAE(t *testing.T, seed string) *vqvae.VQVAE {
	t.Helper()
	m := modeltest.New(t, "vqvae", vqvae.New, nil, set("seed", seed), set("vqvae.channels", "8"), set("vqvae.res_channels", "4"),
		set("vqvae.res_blocks", "1"), set("vqvae.embedding_dim", "4"), set("vqvae.codebook_size", "16")).(*vqvae.VQVAE)
	tr, _ := modeltest.MNIST(t, 1, false)
	b := train.Batch{X: make([]float32, 32*784), Size: 32, H: 28, W: 28}
	for s := range 5 {
		copy(b.X, tr.Pixels[s*32*784:])
		if _, err := m.TrainStep(b, int64(s), modeltest.RNG(uint64(s))); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func smallLDM(t *testing.T, ae *vqvae.VQVAE, extra ...config.Override) *DDPM {
	t.Helper()
	var deps models.Loader
	if ae != nil {
		deps = models.Trained{"vqvae": ae}
	}
	return modeltest.New(t, "ldm", NewLatent, deps, append(slices.Clone(smallLDMSets), extra...)...).(*DDPM)
}

func TestLDMConfigErrors(t *testing.T) {
	cases := []struct {
		set  []config.Override
		want string
	}{
		{[]config.Override{set("ldm.latent_channels", "0")}, "ldm.latent_channels must be positive"},
		{[]config.Override{set("ldm.codebook_size", "1")}, "ldm.codebook_size must be at least 2"},
		{[]config.Override{set("data.dataset", "folder"), set("data.dir", "/nowhere"), set("data.image_size", "32")}, "set data.image_size to 28"},
		{[]config.Override{set("ldm.ema_decay", "1")}, "ldm.ema_decay must be in [0, 1)"},
		{[]config.Override{set("ldm.grid_steps", "0")}, "ldm.grid_steps must be between 1 and ldm.timesteps"},
		{[]config.Override{set("ldm.standardize", "pixel")}, "ldm.standardize must be global or channel"},
	}
	for _, c := range cases {
		cfg, err := config.Load("ldm", "", c.set)
		if err == nil {
			_, err = (models.Entry{Name: "ldm", Build: NewLatent}).New(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.set, err, c.want)
		}
	}
	m := smallLDM(t, nil)
	if _, err := m.options(sample.Diffusion{Guidance: GuidanceClassifier}); err == nil || !strings.Contains(err.Error(), "guide an ldm with cfg") {
		t.Errorf("classifier guidance of an ldm: %v", err)
	}
	if _, err := m.NLLBitsPerDim(nil, 1, 0, modeltest.RNG(1)); err == nil || !strings.Contains(err.Error(), "no likelihood bound") {
		t.Errorf("the bound of an ldm: %v", err)
	}
	if got := len(m.Kinds()); got != 1 {
		t.Errorf("an ldm offers %d picture kinds, want the prior alone", got)
	}
}

// TestLDMLatents checks the training set an ldm sees: the VQ-VAE's
// latents, standardized, padded with zeros to 8x8, and the padding and
// standardization undone before decoding.
func TestLDMLatents(t *testing.T) {
	ae := smallAE(t, "0")
	t.Run("global", func(t *testing.T) { testLDMLatents(t, ae, "global") })
	t.Run("channel", func(t *testing.T) { testLDMLatents(t, ae, "channel") })
}

// testLDMLatents checks one ldm.standardize: global scales every value by
// 1/std of all the latents; channel makes each channel's values of mean 0
// and std 1 over the training set.
func testLDMLatents(t *testing.T, ae *vqvae.VQVAE, standardize string) {
	m := smallLDM(t, ae, set("ldm.standardize", standardize))
	tr, _ := modeltest.MNIST(t, 1, false)
	tr = tr.Limit(300)
	latents, err := m.UseTrainingSet(tr)
	if err != nil {
		t.Fatal(err)
	}
	if latents.N != tr.N || latents.H != 4*8 || latents.W != 8 || !slices.Equal(latents.Labels, tr.Labels) {
		t.Fatalf("latent set %d of %dx%d, want %d of 32x8 with the labels", latents.N, latents.H, latents.W, tr.N)
	}
	z, err := ae.EncodeLatents(tr.Pixels, tr.N)
	if err != nil {
		t.Fatal(err)
	}
	if standardize == "global" {
		k := float64(m.latent.Scale.Data[0])
		_, std := meanStd(z)
		if want := 1 / std; len(m.latent.Scale.Data) != 1 || m.latent.Shift != nil || math.Abs(k-want) > 1e-6*want {
			t.Errorf("latent scale %v (shift %v), want one 1/std = %g", m.latent.Scale.Data, m.latent.Shift, want)
		}
	} else if len(m.latent.Scale.Data) != 4 || m.latent.Shift == nil || len(m.latent.Shift.Data) != 4 {
		t.Fatalf("latent scale %v, shift %v: want one of each per channel", m.latent.Scale.Data, m.latent.Shift)
	}
	var sum, sq [4]float64
	var inPad float64
	for i := range latents.N * 4 {
		for y := range 8 {
			for x := range 8 {
				v := float64(latents.Pixels[(i*8+y)*8+x])
				if y == 7 || x == 7 {
					inPad += math.Abs(v)
				} else {
					sum[i%4] += v
					sq[i%4] += v * v
				}
			}
		}
	}
	perChannel := float64(len(z) / 4)
	var all float64
	for c := range 4 {
		all += sq[c]
		mean := sum[c] / perChannel
		std := math.Sqrt(sq[c]/perChannel - mean*mean)
		if standardize == "channel" && (math.Abs(mean) > 1e-4 || math.Abs(std-1) > 1e-4) {
			t.Errorf("channel %d: mean %g, std %g after standardizing, want 0 and 1", c, mean, std)
		}
	}
	if rms := math.Sqrt(all / float64(len(z))); math.Abs(rms-1) > 0.5 {
		t.Errorf("scaled latents have an rms of %g, want near 1", rms)
	}
	if inPad != 0 {
		t.Errorf("the pad holds %g, want zeros", inPad)
	}
	back := m.latent.crop(latents.Pixels, latents.N)
	for i, v := range z {
		if math.Abs(float64(back[i]-v)) > 1e-5*math.Max(1, math.Abs(float64(v))) {
			t.Fatalf("latent %d: %g after padding and cropping, %g before", i, back[i], v)
		}
	}
}

// TestLDMTrainsAndDraws takes training steps on the latents and draws
// digits: finite losses, images in [0, 1], the same draws for the same
// generator, and classifier-free guidance of a conditional ldm.
func TestLDMTrainsAndDraws(t *testing.T) {
	ae := smallAE(t, "0")
	m := smallLDM(t, ae, set("ldm.conditional", "true"), set("train.lr", "0.003"))
	tr, _ := modeltest.MNIST(t, 1, false)
	latents, err := m.UseTrainingSet(tr.Limit(256))
	if err != nil {
		t.Fatal(err)
	}
	d := m.pixels()
	b := train.Batch{X: make([]float32, 32*d), Labels: make([]uint8, 32), Size: 32, H: latents.H, W: latents.W}
	var first, last float64
	for s := range 20 {
		lo := (s * 32) % (latents.N - 32)
		copy(b.X, latents.Pixels[lo*d:(lo+32)*d])
		copy(b.Labels, latents.Labels[lo:lo+32])
		ms, err := m.TrainStep(b, int64(s), modeltest.RNG(uint64(s)))
		if err != nil {
			t.Fatal(err)
		}
		loss := ms[0].Value
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			t.Fatalf("step %d: loss %g", s, loss)
		}
		if s == 0 {
			first = loss
		}
		last = loss
	}
	if !(last < first) {
		t.Errorf("loss %g after 20 steps, %g at the first: it did not learn", last, first)
	}
	pix := b
	pix.H, pix.W = 28, 28
	if _, err := m.TrainStep(pix, 21, modeltest.RNG(1)); err == nil {
		t.Error("a batch of pixels taken as latents")
	}
	draw := func(req sample.Request) sample.Images {
		t.Helper()
		got, err := m.Draw(req, modeltest.RNG(7))
		if err != nil {
			t.Fatal(err)
		}
		imgs := got.Images
		if imgs.N != req.N || imgs.H != 28 || imgs.W != 28 {
			t.Fatalf("%d images of %dx%d, want %d of 28x28", imgs.N, imgs.H, imgs.W, req.N)
		}
		for _, v := range imgs.Pix {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("pixel %g outside [0, 1]", v)
			}
		}
		return imgs
	}
	a := draw(sample.Request{Kind: "prior", N: 3, Class: -1})
	again := draw(sample.Request{Kind: "prior", N: 3, Class: -1})
	if !slices.Equal(a.Pix, again.Pix) {
		t.Error("the same generator drew different digits")
	}
	draw(sample.Request{Kind: "prior", N: 2, Class: 4, Diffusion: sample.Diffusion{Guidance: GuidanceCFG, Scale: 2}})
}

// TestLDMRefusesAnotherVQVAE checks the binding: an ldm trained on one
// VQ-VAE's latents refuses to decode with, or train on, another's.
func TestLDMRefusesAnotherVQVAE(t *testing.T) {
	a, b := smallAE(t, "0"), smallAE(t, "1")
	m := smallLDM(t, a)
	if err := m.latent.matches(a); err != nil {
		t.Fatalf("binding an unbound ldm: %v", err)
	}
	if slices.Equal(m.latent.CodeNorms.Data, make([]float32, len(m.latent.CodeNorms.Data))) {
		t.Fatal("the bound ldm keeps no code norms")
	}
	if err := m.latent.matches(a); err != nil {
		t.Errorf("the ldm refuses its own VQ-VAE: %v", err)
	}
	if err := m.latent.matches(b); err == nil || !strings.Contains(err.Error(), "another VQ-VAE") {
		t.Errorf("another VQ-VAE: %v", err)
	}
	wide := smallLDM(t, b, set("ldm.latent_channels", "8"))
	if err := wide.latent.matches(b); err == nil || !strings.Contains(err.Error(), "ldm.latent_channels") {
		t.Errorf("an ldm of 8 latent channels over 4: %v", err)
	}
	few := smallLDM(t, b, set("ldm.codebook_size", "8"))
	if err := few.latent.matches(b); err == nil || !strings.Contains(err.Error(), "ldm.codebook_size") {
		t.Errorf("an ldm for 8 codes over 16: %v", err)
	}
}
