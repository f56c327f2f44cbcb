package ddpm

import (
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
)

// ReverseProcess runs the sampling network, and what guides it (a
// classifier, or autoguidance's weaker ddpm), on compiled graphs of one batch
// size.
type ReverseProcess struct {
	Batch int
	Class int // the class asked for, -1 for none
	m     *DDPM
	opt   sampling
	x     []float32 // the batch being denoised
	eps   []float32 // the last (guided) noise prediction

	net     *noiseNet                  // batch Batch, or 2 Batch for classifier-free guidance
	weak    *noiseNet                  // autoguidance's weaker ddpm, batch Batch
	cls     *nets.NoisyClassifierGraph // classifier guidance
	clsProg *graphs.Program
}

// noiseNet is one ddpm's network compiled for sampling: rows images, row i
// at timestep ts[i].
type noiseNet struct {
	m    *DDPM
	g    *nets.NoiseGraph
	prog *graphs.Program
	ts   []int
}

// at sets every row's timestep to t and returns n.
func (n *noiseNet) at(t int) *noiseNet {
	for i := range n.ts {
		n.ts[i] = t
	}
	return n
}

// compileNoiseNet compiles m's sampling network for rows images.
func compileNoiseNet(m *DDPM, rows int) (*noiseNet, error) {
	g, err := nets.BuildNoiseGraph(m.sampler(), rows, false)
	if err != nil {
		return nil, err
	}
	prog, err := graphs.Compile(g.Bound, nil, graphs.Outputs{g.Pred})
	if err != nil {
		return nil, err
	}
	return &noiseNet{m: m, g: g, prog: prog, ts: make([]int, rows)}, nil
}

// NewReverseProcess compiles the sampling network for batch images, with
// the configured sampler and no guidance.
func (m *DDPM) NewReverseProcess(batch int) (*ReverseProcess, error) {
	o := m.configured()
	o.Guidance = ""
	opt, err := m.resolve(o)
	if err != nil {
		return nil, err
	}
	return m.newReverseProcess(batch, opt)
}

func (m *DDPM) newReverseProcess(batch int, opt sampling) (*ReverseProcess, error) {
	d := m.pixels()
	r := &ReverseProcess{Batch: batch, Class: -1, m: m, opt: opt,
		x: make([]float32, batch*d), eps: make([]float32, batch*d)}
	rows := batch
	if opt.Guidance == GuidanceCFG {
		rows = 2 * batch // conditional and unconditional predictions in one pass
	}
	var err error
	if r.net, err = compileNoiseNet(m, rows); err != nil {
		return nil, err
	}
	if opt.Guidance == GuidanceAuto {
		if opt.weak == nil {
			return nil, models.MissingDependency(WeakModelDependency)
		}
		if r.weak, err = compileNoiseNet(opt.weak, batch); err != nil {
			return nil, err
		}
	}
	if opt.Guidance == GuidanceClassifier {
		if opt.guide == nil {
			return nil, models.MissingDependency(ClassifierDependency)
		}
		if r.cls, err = opt.guide.Net.BuildGraph(batch, true); err != nil {
			return nil, err
		}
		if r.clsProg, err = graphs.CompileWRT(r.cls.Bound, r.cls.LogProb, graphs.Outputs{r.cls.LogProb}, []*graphs.Param{r.cls.Image}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Eps predicts the noise of the current x_t (r.X()) at timestep t, guided
// toward r.Class as the options say (see epsOf).
func (r *ReverseProcess) Eps(t int) ([]float32, error) { return r.epsOf(r.x, t) }

// epsOf predicts the noise of x (Batch images) at timestep t, converted from
// the network's prediction (diffusion.Schedule.EpsFrom), guided as the
// options say:
//
//	classifier: eps - scale sqrt(1 - abar_t) grad_x log p(class | x_t, t)
//	cfg:        (1 + scale) eps(x_t, class) - scale eps(x_t)  (Ho & Salimans 2022)
//	auto:       (1 + scale) eps(x_t) - scale eps_weak(x_t)    (Karras et al. 2024)
//
// Classifier and classifier-free guidance steer toward r.Class and apply
// only when there is one; autoguidance steers away from what a weaker model
// of the same data predicts, and applies to every sample, at the timesteps
// of its noise-level interval (autoguides). Its form is
// Karras et al.'s D_weak + w (D - D_weak) with w = 1 + scale, written in the
// noise, which is affine in D at fixed x_t and t, so the two agree. It is the
// Denoiser the samplers call. The result is valid until the next call.
func (r *ReverseProcess) epsOf(x []float32, t int) ([]float32, error) {
	m, n := r.m, r.Batch*r.m.pixels()
	pred, err := r.netEps(r.net.at(t), x)
	if err != nil {
		return nil, err
	}
	switch {
	case r.opt.Guidance == GuidanceCFG && r.Class >= 0:
		w := float32(r.opt.Scale)
		for i := range r.eps {
			r.eps[i] = (1+w)*pred[i] - w*pred[n+i]
		}
	case r.opt.Guidance == GuidanceAuto && m.autoguides(t):
		weak, err := r.netEps(r.weak.at(t), x)
		if err != nil {
			return nil, err
		}
		w := float32(r.opt.Scale)
		for i := range r.eps {
			r.eps[i] = (1+w)*pred[i] - w*weak[i]
		}
	default:
		copy(r.eps, pred[:n])
	}
	if r.opt.Guidance == GuidanceClassifier && r.Class >= 0 {
		copy(r.cls.XT, x)
		layers.TimestepEmbedding(r.cls.TSin, r.net.ts[:r.Batch], nets.NoisyClassifierTimeDim)
		clear(r.cls.OneHot)
		for i := range r.Batch {
			r.cls.OneHot[i*10+r.Class] = 1
		}
		if err := r.clsProg.Run(); err != nil {
			return nil, err
		}
		// The gradient of sum_i log p(y | x_i, t) is each image's own.
		grad := r.clsProg.Grads()[0]
		k := float32(r.opt.Scale * math.Sqrt(1-m.Sched.ABar[t]))
		for i, g := range grad {
			r.eps[i] -= k * g
		}
	}
	return r.eps, nil
}

// autoguides reports whether autoguidance applies at timestep t: where the
// noise level sigma_t = sqrt((1 - abar_t) / abar_t) lies in (auto_sigma_min,
// auto_sigma_max], every timestep by default. Kynkaanniemi et al. 2024 found
// that guidance at the highest noise levels costs diversity and, at the
// lowest, does little; outside the interval the weak model is not run.
func (m *DDPM) autoguides(t int) bool {
	if !m.autoBounded() {
		return true
	}
	sigma, lo, hi := m.Sched.Sigma(t), m.cfg.AutoSigmaMin, m.cfg.AutoSigmaMax
	return sigma > lo && (hi == 0 || sigma <= hi)
}

// autoBounded reports whether ddpm.auto_sigma_min or auto_sigma_max bounds
// autoguidance's interval (both 0: every timestep).
func (m *DDPM) autoBounded() bool { return m.cfg.AutoSigmaMin != 0 || m.cfg.AutoSigmaMax != 0 }

// netEps runs net on x (Batch images; repeated for the second half when
// classifier-free guidance doubles the rows), row i at timestep net.ts[i],
// and returns its predictions converted to noise by its own ddpm's
// prediction target. Rows of a conditional network ask for r.Class (the
// null class when there is none); classifier-free guidance's second half is
// the unconditional prediction. The result is valid until net's next run.
func (r *ReverseProcess) netEps(net *noiseNet, x []float32) ([]float32, error) {
	m, d := net.m, net.m.pixels()
	g := net.g
	for off := 0; off < len(g.XT); off += len(x) {
		copy(g.XT[off:], x)
	}
	u := m.sampler()
	layers.TimestepEmbedding(g.TSin, net.ts, u.Ch)
	if u.Classes > 0 {
		clear(g.OneHot)
		for i := range net.ts {
			c := u.Classes
			if i < r.Batch && r.Class >= 0 {
				c = r.Class
			}
			g.OneHot[i*(u.Classes+1)+c] = 1
		}
	}
	if err := net.prog.Run(); err != nil {
		return nil, err
	}
	pred := net.prog.Value(g.Pred)
	if m.Pred != diffusion.PredictEps {
		// Row i holds x's row i mod Batch, the guided and unguided halves
		// alike.
		for i, t := range net.ts {
			xi := (i % r.Batch) * d
			m.Sched.EpsFrom(m.Pred, pred[i*d:(i+1)*d], x[xi:xi+d], t)
		}
	}
	return pred, nil
}

// X is the batch being denoised, (Batch, 1, side, side), in [-1, 1] at the
// end.
func (r *ReverseProcess) X() []float32 { return r.x }

// Run starts from N(0, I) and runs the whole reverse process with the
// sampler of its options.
func (r *ReverseProcess) Run(rng *rand.Rand) ([]float32, error) {
	opt := r.opt
	smp, err := diffusion.NewSampler(opt.Choice, r.m.Sched)
	if err != nil {
		return nil, err
	}
	x := r.X()
	models.FillNormal(x, rng)
	ts := smp.Timesteps(opt.Steps)
	tick := func() {}
	if opt.Progress != nil {
		tick = opt.Progress(len(ts))
	}
	for i, t := range ts {
		if opt.Record != nil {
			opt.Record(i, t, x)
		}
		eps, err := r.Eps(t)
		if err != nil {
			return nil, err
		}
		prev := -1
		if i+1 < len(ts) {
			prev = ts[i+1]
		}
		if err := smp.Step(x, eps, t, prev, r.epsOf, rng); err != nil {
			return nil, err
		}
		tick()
	}
	if opt.Record != nil {
		opt.Record(len(ts), -1, x)
	}
	return x, nil
}
