package layers

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// ConvTranspose2d is PyTorch's nn.ConvTranspose2d with square kernels:
// weight (in, out, k, k), optional bias (out).
type ConvTranspose2d struct {
	In, Out, Kernel, Stride, Pad int
	Weight, Bias                 *graphs.Param
}

// NewConvTranspose2dNoBias adds name.weight, drawn from N(0, std) as the
// DCGAN recipe prescribes; bias=False because batch normalization follows.
func NewConvTranspose2dNoBias(ps *graphs.ParamSet, name string, in, out, kernel, stride, pad int, std float64, rng *rand.Rand) *ConvTranspose2d {
	c := &ConvTranspose2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad,
		Weight: ps.Add(name+".weight", in, out, kernel, kernel)}
	NormalInit(c.Weight, std, rng)
	return c
}

// Forward applies the transposed convolution to x of shape (B, In, H, W).
func (c *ConvTranspose2d) Forward(b *graphs.Bound, x *G.Node) *G.Node {
	var bias *G.Node
	if c.Bias != nil {
		bias = b.Node(c.Bias, 1, c.Out)
	}
	return ops.ConvTranspose2d(x, b.Node(c.Weight), bias, c.Stride, c.Pad, b.IsInput(x))
}
