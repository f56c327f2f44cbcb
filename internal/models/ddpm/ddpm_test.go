package ddpm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/classifiers"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// smallDDPM is the ddpm with a narrow UNet, for fast tests.
func smallDDPM(t *testing.T, extra ...config.Override) *DDPM {
	t.Helper()
	return smallGuidedDDPM(t, nil, extra...)
}

// smallGuidedDDPM is smallDDPM with deps as its dependencies' loader.
func smallGuidedDDPM(t *testing.T, deps models.Loader, extra ...config.Override) *DDPM {
	t.Helper()
	sets := []config.Override{set("ddpm.channels", "8"), set("ddpm.time_embed", "16"), set("ddpm.groups", "2")}
	return modeltest.New(t, "ddpm", New, deps, append(sets, extra...)...).(*DDPM)
}

var set = modeltest.Set

// TestEMAWarmup checks the EMA's decay sequence min(0.9995, (1+n)/(10+n)):
// after the first update (n = 0, decay 0.1) the average is 0.1 init + 0.9
// weights; with ema_decay 0 there is no EMA and samples use the weights.
func TestEMAWarmup(t *testing.T) {
	m := smallDDPM(t)
	init := append([]float32(nil), m.EMA.Params.List()[0].Data...)
	if _, err := m.TrainStep(modeltest.NoiseBatch(4), 0, rand.New(rand.NewPCG(1, 1))); err != nil {
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
	noEMA := smallDDPM(t, set("ddpm.ema_decay", "0"))
	if noEMA.EMA != nil || noEMA.sampler() != noEMA.Net || len(noEMA.Params()) != len(noEMA.Net.Params.List()) {
		t.Error("ema_decay 0 still keeps an average")
	}
}

func TestSamplingOptions(t *testing.T) {
	m := smallDDPM(t)
	eta := 0.5
	cases := []struct {
		in      sample.Diffusion
		sampler string
		steps   int
		ok      bool
	}{
		{sample.Diffusion{}, diffusion.SamplerDPM2M, 100, true}, // ddpm.sample_steps
		{sample.Diffusion{Steps: 1000}, diffusion.SamplerAncestral, 1000, true},
		{sample.Diffusion{Steps: 50, Eta: &eta}, diffusion.SamplerDDIM, 50, true},
		{sample.Diffusion{Sampler: diffusion.SamplerDDIM, Steps: 1000}, diffusion.SamplerDDIM, 1000, true},
		{sample.Diffusion{Sampler: diffusion.SamplerAncestral, Steps: 50}, "", 0, false},
		{sample.Diffusion{Steps: 1001}, "", 0, false},
		{sample.Diffusion{Sampler: "plms"}, "", 0, false},
		{sample.Diffusion{Sampler: diffusion.SamplerDPM2M, Steps: 20}, diffusion.SamplerDPM2M, 20, true},
		{sample.Diffusion{Sampler: diffusion.SamplerHeun, Steps: 10}, diffusion.SamplerHeun, 10, true},
		{sample.Diffusion{Sampler: diffusion.SamplerEuler, Steps: 20, Eta: &eta}, "", 0, false}, // eta is DDIM's
		{sample.Diffusion{Guidance: GuidanceCFG}, "", 0, false},                                 // not conditional
		{sample.Diffusion{Guidance: "steer"}, "", 0, false},
		{sample.Diffusion{Guidance: GuidanceClassifier, Scale: -1}, "", 0, false},
	}
	for _, c := range cases {
		got, err := m.options(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%+v: error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && (got.Sampler != c.sampler || got.Steps != c.steps) {
			t.Errorf("%+v resolved to %s/%d, want %s/%d", c.in, got.Sampler, got.Steps, c.sampler, c.steps)
		}
	}
	if got, err := m.options(sample.Diffusion{}); err != nil || got.Clip != 1 {
		t.Errorf("pixel samples clip their x0 predictions at %v (%v), want 1", got.Clip, err)
	}
	if got, err := smallLDM(t, nil).options(sample.Diffusion{}); err != nil || got.Clip != 0 {
		t.Errorf("ldm latents clip their x0 predictions at %v (%v), want 0: scaled latents have no bound", got.Clip, err)
	}
	if _, err := (models.Entry{Name: "ddpm", Build: New}).New(modeltest.Config(t, "ddpm", set("ddpm.sample_steps", "5000")), nil); err == nil {
		t.Error("ddpm.sample_steps 5000 accepted with T = 1000")
	}
}

// TestGuidanceScaleDefaults checks that a guided request without a scale
// takes its guidance's configured one, and that a given scale wins.
func TestGuidanceScaleDefaults(t *testing.T) {
	m := smallDDPM(t, set("ddpm.conditional", "true"), set("ddpm.cfg_scale", "2.5"), set("ddpm.classifier_scale", "7"), set("ddpm.auto_scale", "0.75"))
	for _, c := range []struct {
		in   sample.Diffusion
		want float64
	}{
		{sample.Diffusion{Guidance: GuidanceCFG}, 2.5},
		{sample.Diffusion{Guidance: GuidanceClassifier}, 7},
		{sample.Diffusion{Guidance: GuidanceAuto}, 0.75},
		{sample.Diffusion{Guidance: GuidanceAuto, Scale: 2}, 2},
		{sample.Diffusion{Guidance: GuidanceCFG, Scale: 1}, 1},
		{sample.Diffusion{Guidance: GuidanceClassifier, Scale: 0.5}, 0.5},
		{sample.Diffusion{}, 0}, // unguided
	} {
		got, err := m.options(c.in)
		if err != nil || got.Scale != c.want {
			t.Errorf("%+v: scale %v (error %v), want %v", c.in, got.Scale, err, c.want)
		}
	}
}

// shippedOnly loads m for every dependency without its being named, as the
// app's loader falls back on the weights that ship.
type shippedOnly struct{ m models.Model }

func (s shippedOnly) Load(models.Dependency) (models.Model, error) { return s.m, nil }
func (shippedOnly) Given(models.Dependency) bool                   { return false }

// TestConfiguredGuidance checks ddpm.guidance, the guidance of requests
// without --guidance: a request's own guidance wins over it, "none" turns
// it off, and the two guidances that need a class are refused as defaults.
func TestConfiguredGuidance(t *testing.T) {
	m := smallDDPM(t, set("ddpm.guidance", "auto"), set("ddpm.auto_scale", "2"))
	for _, c := range []struct {
		in        sample.Diffusion
		guidance  string
		wantScale float64
	}{
		{sample.Diffusion{}, GuidanceAuto, 2},
		{sample.Diffusion{Scale: 0.5}, GuidanceAuto, 0.5},
		{sample.Diffusion{Guidance: "none"}, "", 0},
		{sample.Diffusion{Guidance: GuidanceClassifier}, GuidanceClassifier, 40},
	} {
		got, err := m.options(c.in)
		if err != nil || got.Guidance != c.guidance || got.Scale != c.wantScale {
			t.Errorf("%+v: guidance %q at %v (error %v), want %q at %v", c.in, got.Guidance, got.Scale, err, c.guidance, c.wantScale)
		}
	}
	// "" picks autoguidance where a weak model is at hand.
	weak := smallDDPM(t)
	otherSchedule := smallDDPM(t, set("ddpm.schedule", "linear"))
	for _, c := range []struct {
		name string
		deps models.Loader
		want string
	}{
		{"no weak model", models.Trained{}, ""},
		{"one named", models.Trained{"weak-model": weak}, GuidanceAuto},
		{"a named one that does not fit", models.Trained{"weak-model": otherSchedule}, GuidanceAuto}, // refused when drawing
		{"the shipped one, fitting", shippedOnly{weak}, GuidanceAuto},
		{"the shipped one, another schedule", shippedOnly{otherSchedule}, ""},
	} {
		m := smallGuidedDDPM(t, c.deps)
		got, err := m.options(sample.Diffusion{})
		if err != nil || got.Guidance != c.want {
			t.Errorf("%s: guidance %q (error %v), want %q", c.name, got.Guidance, err, c.want)
		}
	}
	for _, bad := range []string{GuidanceCFG, GuidanceClassifier, "autoguidance"} {
		e := models.Entry{Name: "ddpm", Build: New}
		_, err := e.New(modeltest.Config(t, "ddpm", set("ddpm.guidance", bad)), nil)
		if err == nil || !strings.Contains(err.Error(), "ddpm.guidance") {
			t.Errorf("ddpm.guidance %q: error %v, want one naming the key", bad, err)
		}
	}
}

// TestTrajectoryPictures checks the shapes of the two diagrams and that
// the reverse chain starts as noise and ends in the sampler's range.
func TestTrajectoryPictures(t *testing.T) {
	m := smallDDPM(t)
	opt, err := m.options(sample.Diffusion{Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	opt.Progress = func(n int) func() { steps = n; return func() {} }
	imgs, grid, err := m.Trajectory(2, 5, opt, rand.New(rand.NewPCG(1, 2)))
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
		nc := modeltest.New(t, "noisy-classifier", classifiers.NewNoisy, nil)
		m := smallGuidedDDPM(t, models.Trained{"guidance-classifier": nc})
		x := make([]float32, batch*784)
		models.FillNormal(x, rng)
		eps := func(guidance string, scale float64) []float32 {
			opt, err := m.options(sample.Diffusion{Steps: 10, Guidance: guidance, Scale: scale})
			if err != nil {
				t.Fatal(err)
			}
			if guidance == GuidanceClassifier {
				if opt.guide, err = m.guidanceClassifier(); err != nil {
					t.Fatal(err)
				}
			}
			r, err := m.newReverseProcess(batch, opt)
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
			g, err := nc.(*classifiers.NoisyClassifier).Net.BuildGraph(1, false)
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
		m := smallDDPM(t, set("ddpm.conditional", "true"))
		x := make([]float32, batch*784)
		models.FillNormal(x, rng)
		eps := func(class int, guidance string, w float64) []float32 {
			opt, err := m.options(sample.Diffusion{Steps: 10, Guidance: guidance, Scale: w})
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.newReverseProcess(batch, opt)
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
		if _, err := smallDDPM(t).options(sample.Diffusion{Guidance: GuidanceCFG}); err == nil {
			t.Error("cfg accepted for an unconditional ddpm")
		}
	})
	t.Run("auto", func(t *testing.T) {
		// The weak model differs in width and prediction target, so the
		// test also checks that each network's output is converted to
		// noise by its own target.
		weak := smallDDPM(t, set("ddpm.channels", "4"), set("ddpm.prediction", "eps"), set("seed", "5"))
		m := smallGuidedDDPM(t, models.Trained{"weak-model": weak})
		x := make([]float32, batch*784)
		models.FillNormal(x, rng)
		eps := func(m *DDPM, guidance string, w float64) []float32 {
			opt, err := m.options(sample.Diffusion{Steps: 10, Guidance: guidance, Scale: w})
			if err != nil {
				t.Fatal(err)
			}
			if guidance == GuidanceAuto {
				if opt.weak, err = m.weakModel(); err != nil {
					t.Fatal(err)
				}
			}
			r, err := m.newReverseProcess(batch, opt)
			if err != nil {
				t.Fatal(err)
			}
			copy(r.X(), x)
			e, err := r.Eps(tt)
			if err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), e...)
		}
		strong, weakEps, guided := eps(m, "none", 0), eps(weak, "none", 0), eps(m, GuidanceAuto, 1.5)
		for i := range guided {
			want := 2.5*strong[i] - 1.5*weakEps[i]
			if math.Abs(float64(guided[i]-want)) > 1e-4*math.Max(1, math.Abs(float64(want))) {
				t.Fatalf("element %d: %v, want %v", i, guided[i], want)
			}
		}
		// The noise-level interval: sigma_600 = 1.395 on the cosine
		// schedule, guided inside (0.28, 5.42] and (1, no bound], not
		// inside (0.28, 1] or (2, no bound].
		if s := m.Sched.Sigma(tt); math.Abs(s-1.395) > 1e-3 {
			t.Fatalf("sigma_%d = %v, the test's intervals assume 1.395", tt, s)
		}
		for _, c := range []struct {
			lo, hi string
			guides bool
		}{{"0.28", "5.42", true}, {"1", "0", true}, {"0.28", "1", false}, {"2", "0", false}} {
			mi := smallGuidedDDPM(t, models.Trained{"weak-model": weak}, set("ddpm.auto_sigma_min", c.lo), set("ddpm.auto_sigma_max", c.hi))
			want := strong
			if c.guides {
				want = guided
			}
			if got := eps(mi, GuidanceAuto, 1.5); !slices.Equal(got, want) {
				t.Errorf("interval (%s, %s]: guided %v, want %v", c.lo, c.hi, !c.guides, c.guides)
			}
		}
	})
}

// TestAutoIntervalErrors checks that a noise-level interval that bounds
// nothing is refused, naming its keys.
func TestAutoIntervalErrors(t *testing.T) {
	for _, c := range []struct{ lo, hi string }{{"-1", "0"}, {"0", "-1"}, {"0.5", "0.5"}, {"2", "1"}} {
		_, err := (models.Entry{Name: "ddpm", Build: New}).New(modeltest.Config(t, "ddpm", set("ddpm.auto_sigma_min", c.lo), set("ddpm.auto_sigma_max", c.hi)), nil)
		if err == nil || !strings.Contains(err.Error(), "ddpm.auto_sigma_min") {
			t.Errorf("interval (%s, %s]: error %v, want one naming ddpm.auto_sigma_min", c.lo, c.hi, err)
		}
	}
}

// TestEverySamplerGuides draws guided samples of a class with every
// sampler, classifier-free and with a classifier, on a small untrained
// model: the images must be finite, in range, and differ between samplers.
func TestEverySamplerGuides(t *testing.T) {
	nc := modeltest.New(t, "noisy-classifier", classifiers.NewNoisy, nil, set("diffusion.timesteps", "20"))
	for guidance, deps := range map[string]models.Loader{GuidanceCFG: nil, GuidanceClassifier: models.Trained{"guidance-classifier": nc}} {
		m := smallGuidedDDPM(t, deps, set("ddpm.conditional", "true"), set("ddpm.timesteps", "20"),
			set("ddpm.sample_steps", "20"), set("ddpm.grid_steps", "5"))
		seen := map[string]string{}
		for _, smp := range []string{diffusion.SamplerAncestral, diffusion.SamplerDDIM, diffusion.SamplerDPM2M, diffusion.SamplerEuler, diffusion.SamplerHeun} {
			steps := 6
			if smp == diffusion.SamplerAncestral {
				steps = 20
			}
			req := sample.Request{Kind: "prior", N: 3, Class: 4, Code: -1,
				Diffusion: sample.Diffusion{Sampler: smp, Steps: steps, Guidance: guidance, Scale: 2}}
			d, err := models.Draw(m, "ddpm", req, rand.New(rand.NewPCG(2, 2)))
			if err != nil {
				t.Fatalf("%s %s: %v", guidance, smp, err)
			}
			for _, v := range d.Images.Pix {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%s %s: pixel %v", guidance, smp, v)
				}
			}
			key := fmt.Sprint(d.Images.Pix[:40])
			if other, ok := seen[key]; ok {
				t.Errorf("%s: %s and %s drew the same images", guidance, smp, other)
			}
			seen[key] = smp
		}
	}
}

// TestGuidanceDependencies checks the refusals around the models guidance
// builds on: guidance without its model (even for unguided samples, as the
// flag asks for it), one given without its guidance, which would be
// silently unused, and a weak model that does not diffuse as the ddpm does.
func TestGuidanceDependencies(t *testing.T) {
	nc := modeltest.New(t, "noisy-classifier", classifiers.NewNoisy, nil, set("diffusion.timesteps", "20"))
	small := []config.Override{set("ddpm.timesteps", "20"), set("ddpm.sample_steps", "20"), set("ddpm.grid_steps", "5")}
	weak := smallDDPM(t, small...)
	otherSchedule := smallDDPM(t, append(small, set("ddpm.schedule", "linear"))...)
	longer := smallDDPM(t, set("ddpm.timesteps", "30"), set("ddpm.sample_steps", "30"), set("ddpm.grid_steps", "5"))
	binarized := smallDDPM(t, append(small, set("data.binarize", "true"))...)
	cases := []struct {
		name     string
		deps     models.Loader
		guidance string
		want     string
	}{
		{"classifier guidance, no classifier", nil, GuidanceClassifier, "needs --guidance-classifier PATH"},
		{"classifier, no guidance", models.Trained{"guidance-classifier": nc}, "", "add --guidance classifier or leave it out"},
		{"autoguidance, no weak model", nil, GuidanceAuto, "needs --weak-model PATH (or --set ddpm.weak_model=PATH)"},
		{"weak model, no guidance", models.Trained{"weak-model": weak}, "none", "add --guidance auto or leave it out"},
		{"weak model of another schedule", models.Trained{"weak-model": otherSchedule}, GuidanceAuto, "--weak-model: the weak model's noise schedule differs"},
		{"weak model of more timesteps", models.Trained{"weak-model": longer}, GuidanceAuto, "--weak-model: the weak model was trained for 30 timesteps, the ddpm has 20"},
		{"weak model of other images", models.Trained{"weak-model": binarized}, GuidanceAuto, "--weak-model: trained on mnist, binarized, the ddpm on mnist: guide with"},
		{"weak model not a ddpm", models.Trained{"weak-model": nc}, GuidanceAuto, "--weak-model: the weaker ddpm of --guidance auto is a"},
	}
	for _, c := range cases {
		m := smallGuidedDDPM(t, c.deps, small...)
		req := sample.Request{Kind: "prior", N: 2, Class: -1, Code: -1, Diffusion: sample.Diffusion{Steps: 3, Guidance: c.guidance, Scale: 1}}
		if _, err := models.Draw(m, "ddpm", req, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestNLLBound runs the variational bound on a few images with a short
// chain (its terms are checked in package diffusion): it must come out
// finite and positive over exactly the images asked for, and the
// stratified estimate must agree with the exact sum within its noise.
func TestNLLBound(t *testing.T) {
	m := smallDDPM(t, set("ddpm.timesteps", "10"), set("ddpm.sample_steps", "10"), set("ddpm.grid_steps", "5"))
	test := &data.Dataset{N: 3, H: 28, W: 28, Pixels: modeltest.NoiseBatch(3).X}
	exact, err := m.NLLBitsPerDim(test, 5, 0, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if exact.Images != 3 || !(exact.BitsPerDim > 0) || math.IsInf(exact.BitsPerDim, 0) || exact.BitsPerDim > 100 || !(exact.StdErr > 0) {
		t.Errorf("exact bound %+v", exact)
	}
	// Many repeats of a 3-timestep estimate average to the exact sum (up
	// to the x_t draws, which both have).
	var sum float64
	const repeats = 40
	for i := range repeats {
		est, err := m.NLLBitsPerDim(test, 5, 3, rand.New(rand.NewPCG(2, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		sum += est.BitsPerDim
	}
	if mean := sum / repeats; math.Abs(mean-exact.BitsPerDim) > 0.02*exact.BitsPerDim {
		t.Errorf("stratified estimates average %.4f bits/dim, the exact sum is %.4f", mean, exact.BitsPerDim)
	}
	if _, err := m.NLLBitsPerDim(test, 5, -1, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("negative timesteps accepted")
	}
}

func TestStrataCoverEveryTimestepOnce(t *testing.T) {
	for _, c := range []struct{ terms, k, want int }{{999, 0, 999}, {999, 50, 50}, {999, 999, 999}, {999, 5000, 999}, {9, 4, 4}} {
		strata := strataOf(c.terms, c.k)
		if len(strata) != c.want {
			t.Errorf("strataOf(%d, %d): %d strata, want %d", c.terms, c.k, len(strata), c.want)
		}
		next := 1
		for _, s := range strata {
			if s.lo != next || s.size < 1 {
				t.Fatalf("strataOf(%d, %d): %+v after %d", c.terms, c.k, s, next)
			}
			next += s.size
		}
		if next != c.terms+1 {
			t.Errorf("strataOf(%d, %d) ends at %d", c.terms, c.k, next-1)
		}
	}
}
