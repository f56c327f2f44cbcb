package graphs

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// Glow is the multi-scale flow of Kingma & Dhariwal (2018) for 1-channel
// images: per level, a squeeze (2x2 pixels into 4 channels), Steps flow
// steps of ActNorm, an invertible 1x1 convolution (LU-parametrized) and an
// affine coupling whose network is conv3x3-ReLU-conv1x1-ReLU-zero-init
// conv3x3, then, except at the top, a split: half the channels leave as
// latents under a Gaussian whose mean and log-sd a zero-initialized conv3x3
// predicts from the other half (the learned prior), and the other half goes
// on. With two levels on 28x28: 4x14x14, split to 2x14x14 out; 8x7x7 at the
// top under N(0, I).
type Glow struct {
	GlowConfig
	Params *ParamSet
	Levels []*GlowLevel
}

// GlowConfig sizes a Glow.
type GlowConfig struct {
	Levels, Steps, Hidden int
	Side                  int // input images are Side x Side, 1 channel
}

// GlowLevel is one scale.
type GlowLevel struct {
	C, Side int // channels and side after the squeeze
	Steps   []*FlowStep
	Prior   *Conv2d // the split's learned prior; nil at the top
}

// FlowStep is ActNorm, invertible 1x1 convolution, affine coupling.
type FlowStep struct {
	ActNorm *ActNorm
	InvConv *InvConv
	NN      []*Conv2d // coupling.net.0, .2, .4
}

// NewGlow creates a Glow; the invertible convolutions start as random
// rotations, the last layers of the coupling networks and the priors at
// zero (each step starts as the identity up to ActNorm and the rotation).
func NewGlow(cfg GlowConfig, rng *rand.Rand) (*Glow, error) {
	if cfg.Levels < 1 || cfg.Steps < 1 || cfg.Hidden < 1 || cfg.Side%(1<<cfg.Levels) != 0 {
		return nil, fmt.Errorf("glow: %d levels need a side divisible by %d (got %d), and steps and hidden must be positive", cfg.Levels, 1<<cfg.Levels, cfg.Side)
	}
	ps := NewParamSet()
	m := &Glow{GlowConfig: cfg, Params: ps}
	c, side := 1, cfg.Side
	for l := range cfg.Levels {
		c, side = 4*c, side/2
		lv := &GlowLevel{C: c, Side: side}
		for k := range cfg.Steps {
			name := fmt.Sprintf("levels.%d.steps.%d", l, k)
			st := &FlowStep{ActNorm: NewActNorm(ps, name+".actnorm", c), InvConv: NewInvConv(ps, name+".invconv", c, rng)}
			st.NN = []*Conv2d{
				NewConv2d(ps, name+".coupling.net.0", c/2, cfg.Hidden, 3, 1, 1, rng),
				NewConv2d(ps, name+".coupling.net.2", cfg.Hidden, cfg.Hidden, 1, 1, 0, rng),
				newZeroConv(ps, name+".coupling.net.4", cfg.Hidden, c, 3, 1),
			}
			lv.Steps = append(lv.Steps, st)
		}
		if l < cfg.Levels-1 {
			lv.Prior = newZeroConv(ps, fmt.Sprintf("levels.%d.prior", l), c/2, c, 3, 1)
			c /= 2
		}
		m.Levels = append(m.Levels, lv)
	}
	return m, nil
}

// newZeroConv is a convolution initialized to zero, Glow's for the last
// layer of each coupling network and for the priors.
func newZeroConv(ps *ParamSet, name string, in, out, k, pad int) *Conv2d {
	return &Conv2d{In: in, Out: out, Kernel: k, Stride: 1, Pad: pad,
		Weight: ps.Add(name+".weight", out, in, k, k), Bias: ps.Add(name+".bias", out)}
}

// Trainable returns the parameters an optimizer updates (not the buffers:
// ActNorm's initialized flags, the 1x1 convolutions' P and signs).
func (m *Glow) Trainable() []*Param {
	var ps []*Param
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
	return ps
}

// Dims is the number of pixels modelled.
func (m *Glow) Dims() int { return m.Side * m.Side }

// ActNorm is Glow's per-channel affine normalization, y = (x + bias)
// exp(logs), initialized from the first training batch so that its output
// has zero mean and unit variance per channel; "initialized" is a buffer
// saved with the weights, so a resumed run does not initialize again.
type ActNorm struct {
	C                       int
	Bias, Logs, Initialized *Param
}

// NewActNorm adds name.bias, name.logs and name.initialized to ps.
func NewActNorm(ps *ParamSet, name string, c int) *ActNorm {
	return &ActNorm{C: c, Bias: ps.Add(name+".bias", c), Logs: ps.Add(name+".logs", c), Initialized: ps.Add(name + ".initialized")}
}

// initFrom sets bias and logs from the per-channel statistics of x.
func (a *ActNorm) initFrom(x []float32, b, c, hw int) {
	n := float64(b * hw)
	for ch := range c {
		var sum, sq float64
		for i := range b {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
		}
		mean := sum / n
		std := math.Sqrt(math.Max(0, sq/n-mean*mean))
		a.Bias.Data[ch] = float32(-mean)
		a.Logs.Data[ch] = float32(-math.Log(std + 1e-6))
	}
	a.Initialized.Data[0] = 1
}

// Forward applies the layer; with init, the first run initializes it from
// its input if it is not initialized yet. It returns y and the layer's
// log-determinant for one image, H W sum(logs) (a scalar).
func (a *ActNorm) Forward(b *Bound, x *G.Node, init bool) (y, logDet *G.Node) {
	op := newGlowOp(gActNorm, x)
	if init {
		op.init = a
	}
	logs := b.Node(a.Logs, 1, a.C)
	y = op.apply(x, b.Node(a.Bias, 1, a.C), logs)
	s := x.Shape()
	return y, must(G.HadamardProd(must(G.Sum(logs)), scalar(float32(s[2]*s[3]))))
}

// Inverse undoes Forward.
func (a *ActNorm) Inverse(b *Bound, y *G.Node) *G.Node {
	return newGlowOp(gActNormInv, y).apply(y, b.Node(a.Bias, 1, a.C), b.Node(a.Logs, 1, a.C))
}

// InvConv is the invertible 1x1 convolution in LU form (invConvWeightOp).
// P and sign_s are buffers fixed at initialization.
type InvConv struct {
	C                          int
	Lower, Upper, Logs, P, Sgn *Param
}

// NewInvConv starts from a random rotation, factorized as P L U.
func NewInvConv(ps *ParamSet, name string, c int, rng *rand.Rand) *InvConv {
	ic := &InvConv{C: c, Lower: ps.Add(name+".lower", c, c), Upper: ps.Add(name+".upper", c, c),
		Logs: ps.Add(name+".log_s", c), P: ps.Add(name+".p", c, c), Sgn: ps.Add(name+".sign_s", c)}
	g := mat.NewDense(c, c, nil)
	for i := range c {
		for j := range c {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var lu mat.LU
	lu.Factorize(&q)
	var l mat.TriDense
	var u mat.TriDense
	lu.LTo(&l)
	lu.UTo(&u)
	var luProd mat.Dense
	luProd.Mul(&l, &u)
	// P: row i of Q is row perm[i] of L U.
	for i := range c {
		best, bestD := 0, math.Inf(1)
		for r := range c {
			d := 0.0
			for j := range c {
				d += math.Abs(q.At(i, j) - luProd.At(r, j))
			}
			if d < bestD {
				best, bestD = r, d
			}
		}
		ic.P.Data[i*c+best] = 1
	}
	for i := range c {
		for j := range c {
			switch {
			case j < i:
				ic.Lower.Data[i*c+j] = float32(l.At(i, j))
			case j > i:
				ic.Upper.Data[i*c+j] = float32(u.At(i, j))
			default:
				d := u.At(i, i)
				ic.Sgn.Data[i] = float32(math.Copysign(1, d))
				ic.Logs.Data[i] = float32(math.Log(math.Abs(d)))
			}
		}
	}
	return ic
}

// op returns the weight op with P and the signs read from the buffers (a
// checkpoint's, after loading).
func (ic *InvConv) op() (invConvWeightOp, error) {
	c := ic.C
	op := invConvWeightOp{c: c, perm: make([]int, c), sign: append([]float32(nil), ic.Sgn.Data...)}
	seen := make([]bool, c)
	for i := range c {
		found := -1
		for j := range c {
			switch v := ic.P.Data[i*c+j]; {
			case v == 1 && found < 0:
				found = j
			case v != 0:
				found = -2
			}
		}
		if found < 0 || seen[found] {
			return op, fmt.Errorf("glow: %s is not a permutation matrix", ic.P.Name)
		}
		seen[found] = true
		op.perm[i] = found
	}
	for _, s := range op.sign {
		if s != 1 && s != -1 {
			return op, fmt.Errorf("glow: %s holds values other than 1 and -1", ic.Sgn.Name)
		}
	}
	return op, nil
}

// Forward applies the convolution and returns its log-determinant for one
// image, H W sum(log_s).
func (ic *InvConv) Forward(b *Bound, x *G.Node) (y, logDet *G.Node) {
	op, err := ic.op()
	if err != nil {
		panic(graphError{err})
	}
	logs := b.Node(ic.Logs, 1, ic.C)
	w := must(G.ApplyOp(op, b.Node(ic.Lower), b.Node(ic.Upper), logs))
	s := x.Shape()
	return conv(x, w, nil, 1, 0, b.IsInput(x)), must(G.HadamardProd(must(G.Sum(logs)), scalar(float32(s[2]*s[3]))))
}

// Inverse returns W^-1 (C, C) from the current parameters, in float64.
func (ic *InvConv) Inverse() ([]float32, error) {
	op, err := ic.op()
	if err != nil {
		return nil, err
	}
	c := ic.C
	l, u := op.factors(ic.Lower.Data, ic.Upper.Data, ic.Logs.Data)
	w := mat.NewDense(c, c, nil)
	for i := range c {
		for j := range c {
			var s float64
			for k := range c {
				s += l[op.perm[i]*c+k] * u[k*c+j]
			}
			w.Set(i, j, s)
		}
	}
	var inv mat.Dense
	if err := inv.Inverse(w); err != nil {
		return nil, fmt.Errorf("glow: %s: %w", ic.Lower.Name, err)
	}
	out := make([]float32, c*c)
	for i := range c {
		for j := range c {
			out[i*c+j] = float32(inv.At(i, j))
		}
	}
	return out, nil
}

// nn is the coupling network on the kept half.
func (st *FlowStep) nn(b *Bound, xa *G.Node) *G.Node {
	h := ReLU(st.NN[0].Forward(b, xa))
	h = ReLU(st.NN[1].Forward(b, h))
	return st.NN[2].Forward(b, h)
}

// forward applies the step and returns its log-determinant summed over the
// batch (a scalar).
func (st *FlowStep) forward(b *Bound, x *G.Node, init bool) (*G.Node, *G.Node) {
	batch := float32(x.Shape()[0])
	x, ldA := st.ActNorm.Forward(b, x, init)
	x, ldW := st.InvConv.Forward(b, x)
	c := x.Shape()[1]
	h := st.nn(b, SliceChannels(x, 0, c/2))
	ldC := must(G.Sum(newGlowOp(gCouplingLogDet, h).apply(h)))
	y := newGlowOp(gCoupling, x).apply(x, h)
	perImage := must(G.Add(ldA, ldW))
	return y, must(G.Add(must(G.HadamardProd(perImage, scalar(batch))), ldC))
}

// GlowGraph is Glow's negative log-likelihood on a batch.
type GlowGraph struct {
	Bound *Bound
	X     []float32 // (B, 1, Side, Side), in the flow's input space (logit space)
	// NLL is the sum over the batch of -log p(x) in nats; Loss its mean.
	NLL, Loss *G.Node
	// Top is the top level's latent; Eps the standardized latents of each
	// split, (z - mean) exp(-logsd), by level: what GlowSampler takes back.
	Top *G.Node
	Eps []*G.Node
}

// BuildNLL builds -log p(x) for a batch; with init, the ActNorm layers not
// yet initialized initialize themselves from this graph's first run.
func (m *Glow) BuildNLL(batch int, init bool) (*GlowGraph, error) {
	gg := &GlowGraph{}
	err := Build("glow", func() {
		g := G.NewGraph()
		b := Bind(g)
		gg.Bound = b
		var x *G.Node
		x, gg.X = Input(g, "x", batch, 1, m.Side, m.Side)
		var logDet, prior *G.Node
		add := func(acc, v *G.Node) *G.Node {
			if acc == nil {
				return v
			}
			return must(G.Add(acc, v))
		}
		for _, lv := range m.Levels {
			x = newGlowOp(gSqueeze, x).apply(x)
			for _, st := range lv.Steps {
				var ld *G.Node
				x, ld = st.forward(b, x, init)
				logDet = add(logDet, ld)
			}
			if lv.Prior != nil {
				h, z := SliceChannels(x, 0, lv.C/2), SliceChannels(x, lv.C/2, lv.C)
				ml := lv.Prior.Forward(b, h)
				prior = add(prior, must(G.Sum(newGlowOp(gPrior, z).apply(z, ml))))
				gg.Eps = append(gg.Eps, newGlowOp(gPriorStd, z).apply(z, ml))
				x = h
			}
		}
		gg.Top = x
		s := x.Shape()
		top := must(G.HadamardProd(must(G.Sum(must(G.Square(x)))), scalar(0.5)))
		top = must(G.Add(top, scalar(float32(0.5*float64(s[0]*s[1]*s[2]*s[3])*math.Log(2*math.Pi)))))
		gg.NLL = must(G.Sub(add(prior, top), logDet))
		gg.Loss = must(G.HadamardProd(gg.NLL, scalar(1/float32(batch))))
	})
	return gg, err
}

// GlowSampler is Glow's inverse on a graph: latents in, images out.
type GlowSampler struct {
	Bound *Bound
	// Top is the top level's z (B, C, s, s); Eps the standard-normal draws
	// of each split by level, scaled by the temperature by the caller
	// (z = mean + exp(logsd) Eps).
	Top []float32
	Eps [][]float32
	X   *G.Node // (B, 1, Side, Side) in the flow's input space
	// inverses are the W^-1 inputs of the 1x1 convolutions, filled by Fill.
	inverses map[*InvConv][]float32
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
	gs := &GlowSampler{inverses: map[*InvConv][]float32{}, Eps: make([][]float32, len(m.Levels)-1)}
	err := Build("glow sampler", func() {
		g := G.NewGraph()
		b := Bind(g)
		gs.Bound = b
		top := m.Levels[len(m.Levels)-1]
		var x *G.Node
		x, gs.Top = Input(g, "z_top", batch, top.C, top.Side, top.Side)
		for l := len(m.Levels) - 1; l >= 0; l-- {
			lv := m.Levels[l]
			if lv.Prior != nil {
				ml := lv.Prior.Forward(b, x)
				eps, data := Input(g, fmt.Sprintf("eps_%d", l), batch, lv.C/2, lv.Side, lv.Side)
				gs.Eps[l] = data
				z := newGlowOp(gPriorSample, eps).apply(ml, eps)
				x = ConcatChannels(x, z)
			}
			for k := len(lv.Steps) - 1; k >= 0; k-- {
				st := lv.Steps[k]
				h := st.nn(b, SliceChannels(x, 0, lv.C/2))
				x = newGlowOp(gCouplingInv, x).apply(x, h)
				winv, data := Input(g, fmt.Sprintf("winv_%d_%d", l, k), lv.C, lv.C, 1, 1)
				gs.inverses[st.InvConv] = data
				x = conv(x, winv, nil, 1, 0, false)
				x = st.ActNorm.Inverse(b, x)
			}
			x = newGlowOp(gUnsqueeze, x).apply(x)
		}
		gs.X = x
	})
	if err != nil {
		return nil, err
	}
	return gs, gs.Fill()
}
