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

// RealNVP is the affine-coupling flow of ../shared/bench/flow_ref.py on
// flattened images (Dinh et al. 2017, with MLP couplings): each layer keeps
// the pixels of its mask m and transforms the others,
//
//	st = net(x m);  s = tanh(st[:D]) (1-m);  t = st[D:] (1-m)
//	y = x exp(s) + t,   log|det dy/dx| = sum s,
//
// net = Linear(D, h), ReLU, Linear(h, h), ReLU, Linear(h, 2D). The masks
// alternate between the odd and the even pixels, layer by layer: the seed's
// couplings all transformed the same half, so half the pixels were never
// modelled. Parameter names are the reference's state_dict keys, its mask
// buffers included (layers.i.mask), so a checkpoint loads there with
// strict=True.
type RealNVP struct {
	D, Hidden int
	Params    *graphs.ParamSet
	Layers    []*Coupling
}

// Coupling is one affine coupling layer.
type Coupling struct {
	KeepOdd bool          // the layer's mask keeps the odd pixels (j % 2 == 1)
	Mask    *graphs.Param // layers.i.mask, a buffer: not trained
	Net     []*layers.Linear
}

// NewRealNVP creates a flow of `couplings` layers over d-dimensional inputs
// with PyTorch's default initialization.
func NewRealNVP(d, hidden, couplings int, rng *rand.Rand) (*RealNVP, error) {
	if d < 2 || hidden < 1 || couplings < 1 {
		return nil, fmt.Errorf("realnvp: need at least 2 dimensions, 1 hidden unit and 1 layer")
	}
	ps := graphs.NewParamSet()
	m := &RealNVP{D: d, Hidden: hidden, Params: ps}
	for i := range couplings {
		name := fmt.Sprintf("layers.%d", i)
		c := &Coupling{KeepOdd: i%2 == 0, Mask: ps.Add(name+".mask", d)}
		for j := range c.Mask.Data {
			if (j%2 == 1) == c.KeepOdd {
				c.Mask.Data[j] = 1
			}
		}
		c.Net = []*layers.Linear{
			layers.NewLinear(ps, name+".net.0", d, hidden, rng),
			layers.NewLinear(ps, name+".net.2", hidden, hidden, rng),
			layers.NewLinear(ps, name+".net.4", hidden, 2*d, rng),
		}
		m.Layers = append(m.Layers, c)
	}
	return m, nil
}

// Trainable returns the parameters an optimizer updates (not the masks).
func (m *RealNVP) Trainable() []*graphs.Param {
	var ps []*graphs.Param
	for _, p := range m.Params.List() {
		if !isMask(m, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

func isMask(m *RealNVP, p *graphs.Param) bool {
	for _, c := range m.Layers {
		if c.Mask == p {
			return true
		}
	}
	return false
}

// CheckMasks reports whether the mask buffers (as loaded from a checkpoint)
// are the alternating masks the layers apply.
func (m *RealNVP) CheckMasks() error {
	for i, c := range m.Layers {
		for j, v := range c.Mask.Data {
			want := float32(0)
			if (j%2 == 1) == c.KeepOdd {
				want = 1
			}
			if v != want {
				return fmt.Errorf("realnvp: layers.%d.mask is not the alternating mask this flow applies", i)
			}
		}
	}
	return nil
}

// Forward maps x (B, D) to z and the summed log-determinant (B, 1).
func (m *RealNVP) Forward(b *graphs.Bound, x *G.Node) (z, logDet *G.Node) {
	for _, c := range m.Layers {
		st := layers.MLP(b, ops.CouplingMask(x, c.KeepOdd), c.Net, false)
		ld := ops.CouplingLogDet(st, c.KeepOdd)
		x = ops.Coupling(x, st, c.KeepOdd)
		if logDet == nil {
			logDet = ld
		} else {
			logDet = must(G.Add(logDet, ld))
		}
	}
	return x, logDet
}

// Inverse maps z (B, D) back to x: the layers in reverse, each recomputing
// s and t from its kept half, which it left unchanged.
func (m *RealNVP) Inverse(b *graphs.Bound, z *G.Node) *G.Node {
	for i := len(m.Layers) - 1; i >= 0; i-- {
		c := m.Layers[i]
		st := layers.MLP(b, ops.CouplingMask(z, c.KeepOdd), c.Net, false)
		z = ops.CouplingInverse(z, st, c.KeepOdd)
	}
	return z
}

// FlowGraph is a flow's negative log-likelihood on a batch.
type FlowGraph struct {
	Bound *graphs.Bound
	X     []float32 // (B, D), in the flow's input space (logit space for images)
	// NLL is the sum over the batch of -log p(x) in nats; Loss its mean.
	NLL, Loss *G.Node
	Z         *G.Node
}

// BuildNLL builds -log p(x) = 0.5 |z|^2 + 0.5 D log(2 pi) - log|det dz/dx|
// for a batch.
func (m *RealNVP) BuildNLL(batch int) (*FlowGraph, error) {
	fg := &FlowGraph{}
	err := graphs.Build("realnvp", func() {
		g := G.NewGraph()
		fg.Bound = graphs.Bind(g)
		var x *G.Node
		x, fg.X = graphs.Input(g, "x", batch, m.D)
		z, ld := m.Forward(fg.Bound, x)
		fg.Z = z
		half := must(G.HadamardProd(must(G.Sum(must(G.Square(z)))), scalar(0.5)))
		nll := must(G.Sub(half, must(G.Sum(ld))))
		fg.NLL = must(G.Add(nll, scalar(float32(0.5*float64(batch*m.D)*math.Log(2*math.Pi)))))
		fg.Loss = must(G.HadamardProd(fg.NLL, scalar(1/float32(batch))))
	})
	return fg, err
}

// BuildInverse builds the sampling graph z -> x for a batch.
func (m *RealNVP) BuildInverse(batch int) (b *graphs.Bound, z []float32, x *G.Node, err error) {
	err = graphs.Build("realnvp inverse", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		var zn *G.Node
		zn, z = graphs.Input(g, "z", batch, m.D)
		x = m.Inverse(b, zn)
	})
	return b, z, x, err
}
