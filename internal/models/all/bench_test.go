package all

import (
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/data"

	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/ddpm"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// newModel builds a registered model from its defaults.
func newModel(tb testing.TB, name string) models.Model {
	tb.Helper()
	m, err := models.New(modeltest.Config(tb, name), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// benchmarkTrainStep times training steps of a model's default
// configuration on a batch of the given size.
func benchmarkTrainStep(b *testing.B, model string, size int) {
	benchmarkSteps(b, newModel(b, model), modeltest.NoiseBatch(size))
}

// benchmarkSteps times m's training steps on batch.
func benchmarkSteps(b *testing.B, m models.Model, batch train.Batch) {
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

// BenchmarkUNetTrainStep is one DDPM training step of UNet-S at batch 64:
// noise, forward, backward, gradient clipping, Adam and the EMA update.
func BenchmarkUNetTrainStep(b *testing.B) { benchmarkTrainStep(b, "ddpm", 64) }

// BenchmarkSSVAETrainStep is one training step of the semi-supervised VAE
// at its defaults: 100 unlabelled images, each scored with all 10 classes,
// and 100 labelled ones.
func BenchmarkSSVAETrainStep(b *testing.B) {
	m := newModel(b, "ssvae")
	noise := modeltest.NoiseBatch(1000)
	labels := make([]uint8, noise.Size)
	for i := range labels {
		labels[i] = uint8(i % 10)
	}
	ds := &data.Dataset{Name: "noise", N: noise.Size, H: 28, W: 28, Pixels: noise.X, Labels: labels}
	if _, err := m.(train.TrainingSetUser).UseTrainingSet(ds); err != nil {
		b.Fatal(err)
	}
	benchmarkSteps(b, m, modeltest.NoiseBatch(100))
}

// BenchmarkVAESample decodes 128 prior draws.
func BenchmarkVAESample(b *testing.B) {
	m := newModel(b, "vae")
	req := sample.Request{N: 128, Class: -1, Code: -1}
	rng := rand.New(rand.NewPCG(3, 3))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := models.Draw(m, "vae", req, rng); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkUNetSampleStep is one reverse-process step at batch 64: the
// network's noise prediction and the ancestral update.
func BenchmarkUNetSampleStep(b *testing.B) {
	m := newModel(b, "ddpm").(*ddpm.DDPM)
	rev, err := m.NewReverseProcess(64)
	if err != nil {
		b.Fatal(err)
	}
	step := diffusion.Ancestral{Sched: m.Sched}
	rng := rand.New(rand.NewPCG(4, 4))
	models.FillNormal(rev.X(), rng)
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
		step.Step(rev.X(), eps, t, t-1, nil, rng)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkRealNVPTrainStep is one RealNVP training step at batch 128
// (flow_ref.py's unit).
func BenchmarkRealNVPTrainStep(b *testing.B) { benchmarkTrainStep(b, "realnvp", 128) }

// BenchmarkGlowTrainStep is one Glow training step at batch 64.
func BenchmarkGlowTrainStep(b *testing.B) { benchmarkTrainStep(b, "glow", 64) }
