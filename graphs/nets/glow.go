package nets

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// Glow is the multi-scale flow of Kingma & Dhariwal (2018) for 1-channel
// images: per level, a squeeze (2x2 pixels into 4 channels), Steps flow
// steps of ActNorm, an invertible 1x1 convolution (LU-parametrized) and an
// affine (or additive) coupling whose network is conv3x3-ReLU-conv1x1-ReLU-
// zero-init conv3x3, then, except at the top, a split: half the channels
// leave as latents under a Gaussian whose mean and log-sd a zero-initialized
// conv3x3 predicts from the other half (the learned prior), and the other
// half goes on. With two levels on 28x28: 4x14x14, split to 2x14x14 out;
// 8x7x7 at the top, under N(0, I) or, with LearnTop, under a Gaussian of a
// learned mean and log-sd per channel (the paper code's learntop).
type Glow struct {
	GlowConfig
	Params *graphs.ParamSet
	Levels []*GlowLevel
	// TopPrior is [mean, logsd] per top channel, (2C), zero-initialized;
	// nil without LearnTop.
	TopPrior *graphs.Param
}

// GlowConfig sizes a Glow.
type GlowConfig struct {
	Levels, Steps, Hidden int
	Side                  int // input images are Side x Side, 1 channel
	// Additive makes every coupling xb + t(xa) (volume-preserving, the
	// paper's additive variant) instead of (xb + t) sigmoid(s + 2).
	Additive bool
	// LearnTop learns the top latents' per-channel mean and log-sd.
	LearnTop bool
}

// GlowLevel is one scale.
type GlowLevel struct {
	C, Side int // channels and side after the squeeze
	Steps   []*FlowStep
	Prior   *layers.Conv2d // the split's learned prior; nil at the top
}

// FlowStep is ActNorm, invertible 1x1 convolution, affine or additive
// coupling.
type FlowStep struct {
	ActNorm  *layers.ActNorm
	InvConv  *layers.InvConv
	NN       []*layers.Conv2d // coupling.net.0, .2, .4
	Additive bool
}

// NewGlow creates a Glow; the invertible convolutions start as random
// rotations, the last layers of the coupling networks and the priors at
// zero (each step starts as the identity up to ActNorm and the rotation).
func NewGlow(cfg GlowConfig, rng *rand.Rand) (*Glow, error) {
	if cfg.Levels < 1 || cfg.Steps < 1 || cfg.Hidden < 1 || cfg.Side%(1<<cfg.Levels) != 0 {
		return nil, fmt.Errorf("glow: %d levels need a side divisible by %d (got %d), and steps and hidden must be positive", cfg.Levels, 1<<cfg.Levels, cfg.Side)
	}
	ps := graphs.NewParamSet()
	m := &Glow{GlowConfig: cfg, Params: ps}
	c, side := 1, cfg.Side
	for l := range cfg.Levels {
		c, side = 4*c, side/2
		lv := &GlowLevel{C: c, Side: side}
		for k := range cfg.Steps {
			name := fmt.Sprintf("levels.%d.steps.%d", l, k)
			st := &FlowStep{ActNorm: layers.NewActNorm(ps, name+".actnorm", c), InvConv: layers.NewInvConv(ps, name+".invconv", c, rng), Additive: cfg.Additive}
			out := c // affine: shift and raw scale for the C/2 transformed channels
			if cfg.Additive {
				out = c / 2 // the shift alone
			}
			st.NN = []*layers.Conv2d{
				layers.NewConv2d(ps, name+".coupling.net.0", c/2, cfg.Hidden, 3, 1, 1, rng),
				layers.NewConv2d(ps, name+".coupling.net.2", cfg.Hidden, cfg.Hidden, 1, 1, 0, rng),
				newZeroConv(ps, name+".coupling.net.4", cfg.Hidden, out, 3, 1),
			}
			lv.Steps = append(lv.Steps, st)
		}
		if l < cfg.Levels-1 {
			lv.Prior = newZeroConv(ps, fmt.Sprintf("levels.%d.prior", l), c/2, c, 3, 1)
			c /= 2
		}
		m.Levels = append(m.Levels, lv)
	}
	if cfg.LearnTop {
		m.TopPrior = ps.Add("top_prior", 2*c)
	}
	return m, nil
}

// newZeroConv is a convolution initialized to zero, Glow's for the last
// layer of each coupling network and for the priors.
func newZeroConv(ps *graphs.ParamSet, name string, in, out, k, pad int) *layers.Conv2d {
	return &layers.Conv2d{In: in, Out: out, Kernel: k, Stride: 1, Pad: pad,
		Weight: ps.Add(name+".weight", out, in, k, k), Bias: ps.Add(name+".bias", out)}
}

// Trainable returns the parameters an optimizer updates (not the buffers:
// ActNorm's initialized flags, the 1x1 convolutions' P and signs).
func (m *Glow) Trainable() []*graphs.Param {
	var ps []*graphs.Param
	for _, lv := range m.Levels {
		for _, st := range lv.Steps {
			ps = append(ps, st.ActNorm.Bias, st.ActNorm.Logs, st.InvConv.Lower, st.InvConv.Upper, st.InvConv.Logs)
			for _, cv := range st.NN {
				ps = append(ps, cv.Weight, cv.Bias)
			}
		}
		if lv.Prior != nil {
			ps = append(ps, lv.Prior.Weight, lv.Prior.Bias)
		}
	}
	if m.TopPrior != nil {
		ps = append(ps, m.TopPrior)
	}
	return ps
}

// Dims is the number of pixels modelled.
func (m *Glow) Dims() int { return m.Side * m.Side }

// nn is the coupling network on the kept half.
func (st *FlowStep) nn(b *graphs.Bound, xa *G.Node) *G.Node {
	h := ops.ReLU(st.NN[0].Forward(b, xa))
	h = ops.ReLU(st.NN[1].Forward(b, h))
	return st.NN[2].Forward(b, h)
}

// forward applies the step and returns its log-determinant summed over the
// batch (a scalar).
func (st *FlowStep) forward(b *graphs.Bound, x *G.Node, init bool) (*G.Node, *G.Node) {
	batch := float32(x.Shape()[0])
	x, ldA := st.ActNorm.Forward(b, x, init)
	x, ldW := st.InvConv.Forward(b, x)
	c := x.Shape()[1]
	xa := ops.SliceChannels(x, 0, c/2)
	h := st.nn(b, xa)
	ld := must(G.HadamardProd(must(G.Add(ldA, ldW)), scalar(batch)))
	if st.Additive {
		return ops.ConcatChannels(xa, must(G.Add(ops.SliceChannels(x, c/2, c), h))), ld
	}
	ldC := must(G.Sum(ops.GlowCouplingLogDet(h)))
	return ops.GlowCoupling(x, h), must(G.Add(ld, ldC))
}

// inverse undoes the step's coupling given its network's output h on the
// kept half (the 1x1 convolution and ActNorm are undone by the caller).
func (st *FlowStep) inverseCoupling(b *graphs.Bound, y *G.Node) *G.Node {
	c := y.Shape()[1]
	ya := ops.SliceChannels(y, 0, c/2)
	h := st.nn(b, ya)
	if st.Additive {
		return ops.ConcatChannels(ya, must(G.Sub(ops.SliceChannels(y, c/2, c), h)))
	}
	return ops.GlowCouplingInverse(y, h)
}

// topPrior is the learned top prior [mean, logsd] broadcast to a batch of
// top latents shaped like z: zeros plus one (2C) vector for every image,
// the vector reaching the batch through a (B,1) x (1,2C) product.
func (m *Glow) topPrior(g *G.ExprGraph, b *graphs.Bound, z *G.Node) *G.Node {
	s := z.Shape()
	zeros, _ := graphs.Input(g, "top_prior_base", s[0], 2*s[1], s[2], s[3])
	ones, data := graphs.Input(g, "top_prior_ones", s[0], 1)
	for i := range data {
		data[i] = 1
	}
	perImage := must(G.Mul(ones, b.Node(m.TopPrior, 1, 2*s[1])))
	return ops.AddPerChannel(zeros, perImage)
}

// GlowGraph is Glow's negative log-likelihood on a batch.
type GlowGraph struct {
	Bound *graphs.Bound
	X     []float32 // (B, 1, Side, Side), in the flow's input space (logit space)
	// NLL is the sum over the batch of -log p(x) in nats; Loss its mean.
	NLL, Loss *G.Node
	// Top is the top level's latent and Eps those of each split, by
	// level, standardized under their priors ((z - mean) exp(-logsd); the
	// top's is z itself without LearnTop): what GlowSampler takes back.
	Top *G.Node
	Eps []*G.Node
}

// BuildNLL builds -log p(x) for a batch; with init, the ActNorm layers not
// yet initialized initialize themselves from this graph's first run.
func (m *Glow) BuildNLL(batch int, init bool) (*GlowGraph, error) {
	gg := &GlowGraph{}
	err := graphs.Build("glow", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		gg.Bound = b
		var x *G.Node
		x, gg.X = graphs.Input(g, "x", batch, 1, m.Side, m.Side)
		var logDet, prior *G.Node
		add := func(acc, v *G.Node) *G.Node {
			if acc == nil {
				return v
			}
			return must(G.Add(acc, v))
		}
		for _, lv := range m.Levels {
			x = ops.Squeeze(x)
			for _, st := range lv.Steps {
				var ld *G.Node
				x, ld = st.forward(b, x, init)
				logDet = add(logDet, ld)
			}
			if lv.Prior != nil {
				h, z := ops.SliceChannels(x, 0, lv.C/2), ops.SliceChannels(x, lv.C/2, lv.C)
				ml := lv.Prior.Forward(b, h)
				prior = add(prior, must(G.Sum(ops.GlowPrior(z, ml))))
				gg.Eps = append(gg.Eps, ops.GlowPriorStd(z, ml))
				x = h
			}
		}
		var top *G.Node
		if m.TopPrior != nil {
			ml := m.topPrior(g, b, x)
			top = must(G.Sum(ops.GlowPrior(x, ml)))
			gg.Top = ops.GlowPriorStd(x, ml)
		} else {
			gg.Top = x
			s := x.Shape()
			top = must(G.HadamardProd(must(G.Sum(must(G.Square(x)))), scalar(0.5)))
			top = must(G.Add(top, scalar(float32(0.5*float64(s[0]*s[1]*s[2]*s[3])*math.Log(2*math.Pi)))))
		}
		gg.NLL = must(G.Sub(add(prior, top), logDet))
		gg.Loss = must(G.HadamardProd(gg.NLL, scalar(1/float32(batch))))
	})
	return gg, err
}

// GlowSampler is Glow's inverse on a graph: latents in, images out.
type GlowSampler struct {
	Bound *graphs.Bound
	// Top and Eps are the standard-normal draws of the top level (B, C, s,
	// s) and of each split by level, scaled by the temperature by the caller
	// (z = mean + exp(logsd) Eps; z = Top at the top without LearnTop).
	Top []float32
	Eps [][]float32
	X   *G.Node // (B, 1, Side, Side) in the flow's input space
	// inverses are the W^-1 inputs of the 1x1 convolutions, filled by Fill.
	inverses map[*layers.InvConv][]float32
}

// Fill computes the inverse 1x1 convolutions from the current weights;
// call it before running after the weights change.
func (s *GlowSampler) Fill() error {
	for ic, dst := range s.inverses {
		inv, err := ic.Inverse()
		if err != nil {
			return err
		}
		copy(dst, inv)
	}
	return nil
}

// BuildSampler builds the inverse for a batch.
func (m *Glow) BuildSampler(batch int) (*GlowSampler, error) {
	gs := &GlowSampler{inverses: map[*layers.InvConv][]float32{}, Eps: make([][]float32, len(m.Levels)-1)}
	err := graphs.Build("glow sampler", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		gs.Bound = b
		top := m.Levels[len(m.Levels)-1]
		var x *G.Node
		x, gs.Top = graphs.Input(g, "z_top", batch, top.C, top.Side, top.Side)
		if m.TopPrior != nil {
			x = ops.GlowPriorSample(m.topPrior(g, b, x), x)
		}
		for l := len(m.Levels) - 1; l >= 0; l-- {
			lv := m.Levels[l]
			if lv.Prior != nil {
				ml := lv.Prior.Forward(b, x)
				eps, data := graphs.Input(g, fmt.Sprintf("eps_%d", l), batch, lv.C/2, lv.Side, lv.Side)
				gs.Eps[l] = data
				z := ops.GlowPriorSample(ml, eps)
				x = ops.ConcatChannels(x, z)
			}
			for k := len(lv.Steps) - 1; k >= 0; k-- {
				st := lv.Steps[k]
				x = st.inverseCoupling(b, x)
				winv, data := graphs.Input(g, fmt.Sprintf("winv_%d_%d", l, k), lv.C, lv.C, 1, 1)
				gs.inverses[st.InvConv] = data
				x = ops.Conv2d(x, winv, nil, 1, 0, false)
				x = st.ActNorm.Inverse(b, x)
			}
			x = ops.Unsqueeze(x)
		}
		gs.X = x
	})
	if err != nil {
		return nil, err
	}
	return gs, gs.Fill()
}
