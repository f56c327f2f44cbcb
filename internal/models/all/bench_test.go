package all

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs/ops"
	"github.com/genmodel/genmodel/internal/blas32"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/ddpm"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
	"github.com/genmodel/genmodel/internal/vec32"
)

// What every benchmark here reports besides ns/op, B/op and allocs/op
// (scripts/bench.sh reads all of it):
//
//   - images/s: images trained on or drawn per second;
//   - FLOP/image: the arithmetic of one step per image, 2 x the
//     multiply-accumulates of the convolution and linear layers that the
//     step ran (ops.MACs), counted as direct convolutions and dense
//     multiplies: a Winograd convolution counts the direct one it replaces.
//     A training step is counted exactly, pass by pass, not as 3x the
//     forward pass: the forward pass, dL/dW and dL/dx of each layer count
//     its forward MACs, except dL/dx of a layer whose input is data or
//     noise, which nothing computes (so a step is a little under 3x the
//     forward pass); a GAN's generator step, which trains G only, computes
//     no dL/dW of D. Norms, activations and the optimizer count nothing. The count follows the configuration the model was built
//     from, and TestStepFLOPs checks it against hand counts;
//   - GFLOP/s: FLOP/image x images/s;
//   - and, on the first run of each benchmark, a log line "kernel path: P"
//     naming the kernels that ran (kernelPath).

// kernelPath names the kernels this process runs: "AVX-512", "AVX2" or
// "Go", as internal/blas32 (the matrix multiply) and internal/vec32 (the
// other hot loops) chose them at start from the CPU's features and GODEBUG
// (GODEBUG=cpu.avx512f=off: the AVX2 path; cpu.avx2=off as well: Go). They
// agree wherever AVX2 comes with FMA and GODEBUG switches off avx512f with
// avx2; should they differ, both are named.
func kernelPath() string {
	mm, vec := blas32.KernelPath(), vec32.KernelPath()
	if mm == vec {
		return mm
	}
	return "blas32 " + mm + ", vec32 " + vec
}

// logKernelPath logs kernelPath on a benchmark's first run (b.N is 1 on
// the first run of every benchmark, whatever -benchtime says).
func logKernelPath(b *testing.B) {
	if b.N == 1 {
		b.Logf("kernel path: %s", kernelPath())
	}
}

// stepFLOPs runs step once and returns the FLOPs per image of its
// convolution and linear layers (2 x their multiply-accumulates, see the
// top of this file) for a step on the given number of images.
func stepFLOPs(step func(), images int) float64 {
	before := ops.MACs()
	step()
	return 2 * float64(ops.MACs()-before) / float64(images)
}

// reportThroughput reports images/s, FLOP/image and GFLOP/s of a benchmark
// that processed n images per iteration.
func reportThroughput(b *testing.B, n int, flopPerImage float64) {
	ips := float64(b.N*n) / b.Elapsed().Seconds()
	b.ReportMetric(ips, "images/s")
	b.ReportMetric(flopPerImage, "FLOP/image")
	b.ReportMetric(flopPerImage*ips/1e9, "GFLOP/s")
}

// newModel builds a registered model from its defaults with overrides.
func newModel(tb testing.TB, name string, overrides ...config.Override) models.Model {
	tb.Helper()
	m, err := models.New(modeltest.Config(tb, name, overrides...), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// configBatch is the batch size of a model's default configuration.
func configBatch(tb testing.TB, name string) int {
	tb.Helper()
	c, err := modeltest.Config(tb, name).Common()
	if err != nil {
		tb.Fatal(err)
	}
	return c.Train.BatchSize
}

// trainer is a model's default configuration ready to train on a noise
// batch, after a first step that sized its buffers and ran any
// data-dependent initialization (Glow's ActNorm).
type trainer struct {
	tb    testing.TB
	m     models.Model
	batch train.Batch
	rng   *rand.Rand
	steps int64
}

func newTrainer(tb testing.TB, model string, size int, overrides ...config.Override) *trainer {
	tr := &trainer{tb: tb, m: newModel(tb, model, overrides...), batch: modeltest.NoiseBatch(size), rng: rand.New(rand.NewPCG(2, 2))}
	tr.step()
	return tr
}

// step is one training step.
func (tr *trainer) step() {
	if _, err := tr.m.TrainStep(tr.batch, tr.steps, tr.rng); err != nil {
		tr.tb.Fatal(err)
	}
	tr.steps++
}

// flops is the FLOPs per image of one more training step.
func (tr *trainer) flops() float64 { return stepFLOPs(tr.step, tr.batch.Size) }

// benchmarkTrainStep times training steps of a model's default
// configuration (with overrides) on a batch of the given size.
func benchmarkTrainStep(b *testing.B, model string, size int, overrides ...config.Override) {
	logKernelPath(b)
	tr := newTrainer(b, model, size, overrides...)
	flops := tr.flops()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.step()
	}
	reportThroughput(b, size, flops)
}

// BenchmarkVAETrainStep is one training step of the seed VAE at batch 128
// (forward, backward, Adam), the unit of vae_ref.py's images/s.
func BenchmarkVAETrainStep(b *testing.B) { benchmarkTrainStep(b, "vae", 128) }

// BenchmarkGANTrainStep is one D step and one G step of the seed GAN at
// batch 64, the unit of gan_ref.py's steps/s.
func BenchmarkGANTrainStep(b *testing.B) { benchmarkTrainStep(b, "gan", 64) }

// BenchmarkDCGANTrainStep is one D step and one G step of the default DCGAN
// at batch 64, the unit of scripts/dcgan_in_pytorch.py's timing mode
// (STEPS=N HIDDEN=1024).
func BenchmarkDCGANTrainStep(b *testing.B) { benchmarkTrainStep(b, "dcgan", 64) }

// BenchmarkUNetTrainStep is one DDPM training step of UNet-S at batch 64:
// noise, forward, backward, gradient clipping, Adam and the EMA update.
func BenchmarkUNetTrainStep(b *testing.B) { benchmarkTrainStep(b, "ddpm", 64) }

// BenchmarkSSVAETrainStep is one training step of the semi-supervised VAE
// at its defaults: 100 unlabelled images, each scored with all 10 classes,
// and 100 labelled ones.
func BenchmarkSSVAETrainStep(b *testing.B) {
	logKernelPath(b)
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
	tr := &trainer{tb: b, m: m, batch: modeltest.NoiseBatch(100), rng: rand.New(rand.NewPCG(2, 2))}
	tr.step()
	flops := tr.flops()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.step()
	}
	reportThroughput(b, tr.batch.Size, flops)
}

// BenchmarkVAESample decodes 128 prior draws. Its FLOP/image is the
// decoder's forward pass, counted on a draw of one full chunk
// (sample.ChunkSize images): the decoder runs ChunkSize rows at a time,
// so 128 draws decode 200 rows, and the 72 rows of padding would
// otherwise count as work done.
func BenchmarkVAESample(b *testing.B) {
	logKernelPath(b)
	m := newModel(b, "vae")
	rng := rand.New(rand.NewPCG(3, 3))
	draw := func(n int) {
		if _, err := models.Draw(m, "vae", sample.Request{N: n, Class: -1, Code: -1}, rng); err != nil {
			b.Fatal(err)
		}
	}
	flops := stepFLOPs(func() { draw(sample.ChunkSize) }, sample.ChunkSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		draw(128)
	}
	reportThroughput(b, 128, flops)
}

// unetSampler is the reverse process of the default DDPM at a batch size,
// from pure noise, with its network run once.
type unetSampler struct {
	tb   testing.TB
	rev  *ddpm.ReverseProcess
	step diffusion.Ancestral
	rng  *rand.Rand
}

func newUNetSampler(tb testing.TB, batch int) *unetSampler {
	m := newModel(tb, "ddpm").(*ddpm.DDPM)
	rev, err := m.NewReverseProcess(batch)
	if err != nil {
		tb.Fatal(err)
	}
	s := &unetSampler{tb: tb, rev: rev, step: diffusion.Ancestral{Sched: m.Sched}, rng: rand.New(rand.NewPCG(4, 4))}
	models.FillNormal(rev.X(), s.rng)
	if _, err := rev.Eps(999); err != nil { // the first run sizes the arena
		tb.Fatal(err)
	}
	return s
}

// reverseStep is one step of the reverse process at timestep t: the
// network's noise prediction and the ancestral update.
func (s *unetSampler) reverseStep(t int) {
	eps, err := s.rev.Eps(t)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.step.Step(s.rev.X(), eps, t, t-1, nil, s.rng)
}

// BenchmarkUNetSampleStep is one reverse-process step at batch 64: the
// network's noise prediction and the ancestral update.
func BenchmarkUNetSampleStep(b *testing.B) {
	logKernelPath(b)
	s := newUNetSampler(b, 64)
	flops := stepFLOPs(func() { s.reverseStep(999) }, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.reverseStep(999 - i%1000)
	}
	reportThroughput(b, 64, flops)
}

// BenchmarkRealNVPTrainStep is one training step of the seed's MLP RealNVP
// (realnvp.arch mlp) at batch 128 (flow_ref.py's unit).
func BenchmarkRealNVPTrainStep(b *testing.B) {
	benchmarkTrainStep(b, "realnvp", 128, modeltest.Set("realnvp.arch", "mlp"))
}

// BenchmarkGlowTrainStep is one Glow training step of configs/glow.yaml at
// its batch size (64).
func BenchmarkGlowTrainStep(b *testing.B) { benchmarkTrainStep(b, "glow", configBatch(b, "glow")) }

// BenchmarkRealNVPMultiscaleTrainStep is one training step of the
// multi-scale RealNVP (realnvp.arch multiscale, the default) at batch 64,
// Glow's.
func BenchmarkRealNVPMultiscaleTrainStep(b *testing.B) {
	benchmarkTrainStep(b, "realnvp", 64, modeltest.Set("realnvp.arch", "multiscale"))
}

// peakSide is the side of BenchmarkSgemmPeak's square matrices.
const peakSide = 1024

// BenchmarkSgemmPeak is this machine's FP32 peak as genmodel reaches it: a
// 1024x1024x1024 blas32.Sgemm on as many goroutines as the models' large
// multiplies use (blas32's default, at most GOMAXPROCS: both cores of a
// 2-core machine), after a warm-up call. It reports the best single call
// of the b.N timed ones as GFLOP/s (2 x 1024^3 FLOPs per call), and the
// goroutine count as threads; scripts/bench.sh runs it with -benchtime 10x.
func BenchmarkSgemmPeak(b *testing.B) {
	logKernelPath(b)
	const n = peakSide
	rng := rand.New(rand.NewPCG(5, 5))
	x, y, z := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range x {
		x[i], y[i] = rng.Float32()-0.5, rng.Float32()-0.5
	}
	mul := func() { blas32.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, x, n, y, n, 0, z, n) }
	mul()
	best := time.Duration(math.MaxInt64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		mul()
		best = min(best, time.Since(start))
	}
	threads := blas32.SetThreads(1)
	blas32.SetThreads(threads)
	b.ReportMetric(2*n*n*n/best.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(min(threads, runtime.GOMAXPROCS(0))), "threads")
}
