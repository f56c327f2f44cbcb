package layers

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// Linear is PyTorch's nn.Linear: y = x W^T + b with W of shape (out, in).
type Linear struct {
	In, Out int
	Weight  *graphs.Param
	Bias    *graphs.Param
	SN      *SpectralNorm // nil, or the spectral normalization Forward divides Weight by
}

// NewLinear adds name.weight and name.bias to ps, initialized as PyTorch does.
func NewLinear(ps *graphs.ParamSet, name string, in, out int, rng *rand.Rand) *Linear {
	l := &Linear{In: in, Out: out, Weight: ps.Add(name+".weight", out, in), Bias: ps.Add(name+".bias", out)}
	UniformInit(l.Weight, in, rng)
	UniformInit(l.Bias, in, rng)
	return l
}

// Forward applies the layer to x of shape (batch, in), as one fused op.
func (l *Linear) Forward(b *graphs.Bound, x *G.Node) *G.Node {
	return ops.Linear(x, l.SN.weightOf(b, l.Weight), b.Node(l.Bias, 1, l.Out), b.IsInput(x))
}

// MLP applies layers in turn with ReLU between them (not after the last),
// the shape of the seed's nn.Sequential stacks.
func MLP(b *graphs.Bound, x *G.Node, layers []*Linear, reluAfterLast bool) *G.Node {
	for i, l := range layers {
		x = l.Forward(b, x)
		if i < len(layers)-1 || reluAfterLast {
			x = ops.ReLU(x)
		}
	}
	return x
}
