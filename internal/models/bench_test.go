package models

import (
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// newDefault builds a model from its embedded default configuration.
func newDefault(tb testing.TB, name string) Model {
	tb.Helper()
	cfg, err := config.Load(name, "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// randomBatch is a batch of uniform noise images: the step's cost does not
// depend on the pixel values.
func randomBatch(size int) train.Batch {
	rng := rand.New(rand.NewPCG(1, 1))
	b := train.Batch{X: make([]float32, size*28*28), Size: size, H: 28, W: 28}
	for i := range b.X {
		b.X[i] = rng.Float32()
	}
	return b
}

// benchmarkTrainStep times training steps of a model's default
// configuration on a batch of the given size.
func benchmarkTrainStep(b *testing.B, model string, size int) {
	m := newDefault(b, model)
	batch := randomBatch(size)
	rng := rand.New(rand.NewPCG(2, 2))
	if _, err := m.TrainStep(batch, 0, rng); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.TrainStep(batch, int64(i+1), rng); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch.Size)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkVAETrainStep is one training step of the seed VAE at batch 128
// (forward, backward, Adam), the unit of vae_ref.py's images/s.
func BenchmarkVAETrainStep(b *testing.B) { benchmarkTrainStep(b, "vae", 128) }

// BenchmarkGANTrainStep is one D step and one G step of the seed GAN at
// batch 64, the unit of gan_ref.py's steps/s.
func BenchmarkGANTrainStep(b *testing.B) { benchmarkTrainStep(b, "gan", 64) }

// BenchmarkDCGANTrainStep is one D step and one G step of the DCGAN at batch 64.
func BenchmarkDCGANTrainStep(b *testing.B) { benchmarkTrainStep(b, "dcgan", 64) }

// BenchmarkVAESample decodes 128 prior draws.
func BenchmarkVAESample(b *testing.B) {
	m := newDefault(b, "vae").(*VAE)
	rng := rand.New(rand.NewPCG(3, 3))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := sample.VAEPrior(m.Net, 128, rng); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkUNetTrainStep is one DDPM training step of UNet-S at batch 64:
// noise, forward, backward, gradient clipping, Adam and the EMA update.
func BenchmarkUNetTrainStep(b *testing.B) { benchmarkTrainStep(b, "ddpm", 64) }

// BenchmarkUNetSampleStep is one reverse-process step at batch 64: the
// network's noise prediction and the ancestral update.
func BenchmarkUNetSampleStep(b *testing.B) {
	m := newDefault(b, "ddpm").(*DDPM)
	rev, err := m.NewReverseProcess(64)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	fillNormal(rev.X(), rng)
	if _, err := rev.Eps(999); err != nil { // the first run sizes the arena
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := 999 - i%1000
		eps, err := rev.Eps(t)
		if err != nil {
			b.Fatal(err)
		}
		m.Sched.AncestralStep(rev.X(), eps, t, rng)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkRealNVPTrainStep is one RealNVP training step at batch 128
// (flow_ref.py's unit).
func BenchmarkRealNVPTrainStep(b *testing.B) { benchmarkTrainStep(b, "realnvp", 128) }

// BenchmarkGlowTrainStep is one Glow training step at batch 64.
func BenchmarkGlowTrainStep(b *testing.B) { benchmarkTrainStep(b, "glow", 64) }
