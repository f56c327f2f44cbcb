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

// ReverseProcess runs the sampling network, and a guidance classifier, on
// compiled graphs of one batch size.
type ReverseProcess struct {
	Batch int
	Class int // the class asked for, -1 for none
	m     *DDPM
	opt   sampling
	x     []float32 // the batch being denoised
	eps   []float32 // the last (guided) noise prediction
	ts    []int

	net     *nets.NoiseGraph // batch Batch, or 2 Batch for classifier-free guidance
	netProg *graphs.Program
	cls     *nets.NoisyClassifierGraph // classifier guidance
	clsProg *graphs.Program
}

// NewReverseProcess compiles the sampling network for batch images, with
// the configured sampler and no guidance.
func (m *DDPM) NewReverseProcess(batch int) (*ReverseProcess, error) {
	opt, err := m.resolve(m.configured())
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
	r.ts = make([]int, rows)
	var err error
	if r.net, err = nets.BuildNoiseGraph(m.sampler(), rows, false); err != nil {
		return nil, err
	}
	if r.netProg, err = graphs.Compile(r.net.Bound, nil, graphs.Outputs{r.net.Pred}); err != nil {
		return nil, err
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
// the network's prediction (diffusion.Schedule.EpsFrom), guided toward
// r.Class as the options say:
//
//	classifier: eps - scale sqrt(1 - abar_t) grad_x log p(class | x_t, t)
//	cfg:        (1 + scale) eps(x_t, class) - scale eps(x_t)  (Ho & Salimans 2022)
//
// It is the Denoiser the samplers call. The result is valid until the next
// call.
func (r *ReverseProcess) epsOf(x []float32, t int) ([]float32, error) {
	m, n := r.m, r.Batch*r.m.pixels()
	for i := range r.ts {
		r.ts[i] = t
	}
	pred, err := r.netEps(x)
	if err != nil {
		return nil, err
	}
	if r.opt.Guidance == GuidanceCFG && r.Class >= 0 {
		w := float32(r.opt.Scale)
		for i := range r.eps {
			r.eps[i] = (1+w)*pred[i] - w*pred[n+i]
		}
	} else {
		copy(r.eps, pred[:n])
	}
	if r.opt.Guidance == GuidanceClassifier && r.Class >= 0 {
		copy(r.cls.XT, x)
		layers.TimestepEmbedding(r.cls.TSin, r.ts[:r.Batch], nets.NoisyClassifierTimeDim)
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

// netEps runs the network on x (Batch images; repeated for the second half
// when classifier-free guidance doubles the rows), row i at timestep r.ts[i],
// and returns its predictions converted to noise, every row's with its own
// timestep. The result is valid until the next run.
func (r *ReverseProcess) netEps(x []float32) ([]float32, error) {
	m, d := r.m, r.m.pixels()
	n := r.Batch * d
	classes := m.sampler().Classes
	copy(r.net.XT, x)
	layers.TimestepEmbedding(r.net.TSin, r.ts, m.sampler().Ch)
	if classes > 0 {
		// Rows of the conditional half ask for the class (the null row
		// when there is none); classifier-free guidance's second half is
		// the unconditional prediction.
		clear(r.net.OneHot)
		for i := range r.ts {
			c := classes
			if i < r.Batch && r.Class >= 0 {
				c = r.Class
			}
			r.net.OneHot[i*(classes+1)+c] = 1
		}
	}
	if r.opt.Guidance == GuidanceCFG {
		copy(r.net.XT[n:], x)
	}
	if err := r.netProg.Run(); err != nil {
		return nil, err
	}
	pred := r.netProg.Value(r.net.Pred)
	if m.Pred != diffusion.PredictEps {
		// Row i holds x's row i mod Batch at r.ts[i], the guided and
		// unguided halves alike.
		for i, t := range r.ts {
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
