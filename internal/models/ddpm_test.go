package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/train"
)

// smallDDPM is the ddpm with a narrow UNet, for fast tests.
func smallDDPM(t *testing.T, extra ...config.Override) *DDPM {
	t.Helper()
	sets := []config.Override{
		{Key: "ddpm.channels", Value: "8", Source: "test"}, {Key: "ddpm.time_embed", Value: "16", Source: "test"},
		{Key: "ddpm.groups", Value: "2", Source: "test"},
	}
	cfg, err := config.Load("ddpm", "", append(sets, extra...))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*DDPM)
}

// TestEMAWarmup checks the EMA's decay sequence min(0.9995, (1+n)/(10+n)):
// after the first update (n = 0, decay 0.1) the average is 0.1 init + 0.9
// weights; with ema_decay 0 there is no EMA and samples use the weights.
func TestEMAWarmup(t *testing.T) {
	m := smallDDPM(t)
	init := append([]float32(nil), m.EMA.Params.List()[0].Data...)
	if _, err := m.TrainStep(randomBatch(4), 0, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	w, e := m.Net.Params.List()[0].Data, m.EMA.Params.List()[0].Data
	for i := range w {
		want := 0.1*float64(init[i]) + 0.9*float64(w[i])
		if math.Abs(float64(e[i])-want) > 1e-6 {
			t.Fatalf("EMA[%d] = %v after one update, want %v", i, e[i], want)
		}
	}
	if m.EMA.Params.List()[0].Name != "ema.temb.0.weight" {
		t.Errorf("EMA parameter named %s", m.EMA.Params.List()[0].Name)
	}
	noEMA := smallDDPM(t, config.Override{Key: "ddpm.ema_decay", Value: "0", Source: "test"})
	if noEMA.EMA != nil || noEMA.sampler() != noEMA.Net || len(noEMA.Params()) != len(noEMA.Net.Params.List()) {
		t.Error("ema_decay 0 still keeps an average")
	}
}

func TestSamplingOptions(t *testing.T) {
	m := smallDDPM(t)
	cases := []struct {
		in      SampleOptions
		sampler string
		steps   int
		ok      bool
	}{
		{SampleOptions{}, SamplerDDPM, 1000, true},
		{SampleOptions{Steps: 1000}, SamplerDDPM, 1000, true},
		{SampleOptions{Steps: 100}, SamplerDDIM, 100, true},
		{SampleOptions{Sampler: SamplerDDIM, Steps: 1000}, SamplerDDIM, 1000, true},
		{SampleOptions{Sampler: SamplerDDPM, Steps: 50}, "", 0, false},
		{SampleOptions{Steps: 1001}, "", 0, false},
		{SampleOptions{Steps: -1}, "", 0, false},
		{SampleOptions{Sampler: "euler"}, "", 0, false},
		{SampleOptions{Steps: 10, Eta: -1}, "", 0, false},
	}
	for _, c := range cases {
		err := m.SetSampling(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%+v: error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if got := m.Sampling(); c.ok && (got.Sampler != c.sampler || got.Steps != c.steps) {
			t.Errorf("%+v resolved to %s/%d, want %s/%d", c.in, got.Sampler, got.Steps, c.sampler, c.steps)
		}
	}
	if _, err := New(mustLoad(t, "ddpm", config.Override{Key: "ddpm.sample_steps", Value: "5000", Source: "test"})); err == nil {
		t.Error("ddpm.sample_steps 5000 accepted with T = 1000")
	}
}

// TestTrajectoryPictures checks the shapes of the two diagrams and that
// the reverse chain starts as noise and ends in the sampler's range.
func TestTrajectoryPictures(t *testing.T) {
	m := smallDDPM(t)
	if err := m.SetSampling(SampleOptions{Steps: 10}); err != nil {
		t.Fatal(err)
	}
	steps := 0
	opt := m.Sampling()
	opt.Progress = func(n int) func() { steps = n; return func() {} }
	if err := m.SetSampling(opt); err != nil {
		t.Fatal(err)
	}
	imgs, grid, err := m.Trajectory(2, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if imgs.N != 10 || grid.NRow != 5 || grid.Lo != -1 || steps != 10 {
		t.Fatalf("trajectory: %d images, %d per row, lo %v, %d steps", imgs.N, grid.NRow, grid.Lo, steps)
	}
	var sq float64
	for _, v := range imgs.Pix[:784] { // column 0: x_T ~ N(0, I)
		sq += float64(v) * float64(v)
	}
	if v := sq / 784; v < 0.7 || v > 1.3 {
		t.Errorf("first column's variance %v, want about 1 (pure noise)", v)
	}
	for _, v := range imgs.Pix[4*784 : 5*784] { // column 4: the DDIM sample, clipped x0 path
		if v < -1.5 || v > 1.5 {
			t.Fatalf("last column holds %v, outside the image range", v)
		}
	}
}

func mustLoad(t *testing.T, model string, sets ...config.Override) *config.Config {
	t.Helper()
	cfg, err := config.Load(model, "", sets)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var _ train.Sampler = (*DDPM)(nil)

// TestGuidanceFormulas checks both guided predictions against their
// definitions, computed from unguided pieces: classifier guidance as
// eps - s sqrt(1-abar_t) grad_x log p(y|x_t,t) with the gradient taken by
// finite differences of the classifier's log-probability, and CFG as
// (1+w) eps(x, y) - w eps(x) with the two predictions from w = 0 runs.
func TestGuidanceFormulas(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const tt, k, batch = 600, 3, 2
	t.Run("classifier", func(t *testing.T) {
		m := smallDDPM(t)
		cfg := mustLoad(t, "noisy-classifier")
		nc, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetGuidanceClassifier(nc.(*NoisyClassifier)); err != nil {
			t.Fatal(err)
		}
		x := make([]float32, batch*784)
		fillNormal(x, rng)
		eps := func(guidance string, scale float64) []float32 {
			if err := m.SetSampling(SampleOptions{Steps: 10, Guidance: guidance, Scale: scale}); err != nil {
				t.Fatal(err)
			}
			r, err := m.NewReverseProcess(batch)
			if err != nil {
				t.Fatal(err)
			}
			r.Class = k
			copy(r.X(), x)
			e, err := r.Eps(tt)
			if err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), e...)
		}
		plain, guided := eps("", 0), eps(GuidanceClassifier, 2)
		// log p(k | x) of image 0 by the classifier, for finite differences.
		logp := func(img []float32) float64 {
			g, err := nc.(*NoisyClassifier).Net.BuildGraph(1, false)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graphs.Compile(g.Bound, nil, graphs.Outputs{g.LogProb})
			if err != nil {
				t.Fatal(err)
			}
			copy(g.XT, img)
			layers.TimestepEmbedding(g.TSin, []int{tt}, nets.NoisyClassifierTimeDim)
			g.OneHot[k] = 1
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			return prog.Scalar(g.LogProb)
		}
		c := 2 * math.Sqrt(1-m.Sched.ABar[tt])
		img := append([]float32(nil), x[:784]...)
		for _, i := range []int{100, 400, 600} {
			const h = 1e-2
			orig := img[i]
			img[i] = orig + h
			up := logp(img)
			img[i] = orig - h
			down := logp(img)
			img[i] = orig
			want := float64(plain[i]) - c*(up-down)/(2*h)
			if math.Abs(float64(guided[i])-want) > 2e-3*math.Max(1, math.Abs(want)) {
				t.Errorf("pixel %d: guided eps %v, want %v", i, guided[i], want)
			}
		}
	})
	t.Run("cfg", func(t *testing.T) {
		m := smallDDPM(t, config.Override{Key: "ddpm.conditional", Value: "true", Source: "test"})
		x := make([]float32, batch*784)
		fillNormal(x, rng)
		eps := func(class int, guidance string, w float64) []float32 {
			if err := m.SetSampling(SampleOptions{Steps: 10, Guidance: guidance, Scale: w}); err != nil {
				t.Fatal(err)
			}
			r, err := m.NewReverseProcess(batch)
			if err != nil {
				t.Fatal(err)
			}
			r.Class = class
			copy(r.X(), x)
			e, err := r.Eps(tt)
			if err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), e...)
		}
		cond, uncond, guided := eps(k, "", 0), eps(-1, "", 0), eps(k, GuidanceCFG, 3)
		for i := range guided {
			want := 4*cond[i] - 3*uncond[i]
			if math.Abs(float64(guided[i]-want)) > 1e-4*math.Max(1, math.Abs(float64(want))) {
				t.Fatalf("element %d: %v, want %v", i, guided[i], want)
			}
		}
		if err := smallDDPM(t).SetSampling(SampleOptions{Guidance: GuidanceCFG}); err == nil {
			t.Error("cfg accepted for an unconditional ddpm")
		}
	})
}

// TestNLLBound runs the variational bound on a few images with a short
// chain (its terms are checked in package diffusion): it must come out
// finite and positive over exactly the images asked for.
func TestNLLBound(t *testing.T) {
	m := smallDDPM(t, config.Override{Key: "ddpm.timesteps", Value: "10", Source: "test"},
		config.Override{Key: "ddpm.sample_steps", Value: "10", Source: "test"},
		config.Override{Key: "ddpm.grid_steps", Value: "5", Source: "test"})
	test := &data.Dataset{N: 3, H: 28, W: 28, Pixels: randomBatch(3).X}
	bpd, n, err := m.NLLBitsPerDim(test, 5, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || !(bpd > 0) || math.IsInf(bpd, 0) || bpd > 100 {
		t.Errorf("bound %v bits/dim on %d images", bpd, n)
	}
}
