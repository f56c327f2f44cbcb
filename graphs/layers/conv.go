package layers

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// The convolution layers, Conv2d and ConvTranspose2d, and max pooling.

// Conv2d is PyTorch's nn.Conv2d with square kernels: weight (out, in, k, k),
// bias (out).
type Conv2d struct {
	In, Out, Kernel, Stride, Pad int
	Weight, Bias                 *graphs.Param
	SN                           *SpectralNorm // nil, or the spectral normalization Forward divides Weight by
}

// NewConv2d adds name.weight and name.bias to ps, initialized as PyTorch does.
func NewConv2d(ps *graphs.ParamSet, name string, in, out, kernel, stride, pad int, rng *rand.Rand) *Conv2d {
	c := &Conv2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad,
		Weight: ps.Add(name+".weight", out, in, kernel, kernel), Bias: ps.Add(name+".bias", out)}
	fanIn := in * kernel * kernel
	UniformInit(c.Weight, fanIn, rng)
	UniformInit(c.Bias, fanIn, rng)
	return c
}

// NewConv2dNoBias is NewConv2d with bias=False, the DCGAN convention for a
// convolution followed by batch normalization (which has its own shift);
// weights are drawn from N(0, std) as the DCGAN recipe prescribes.
func NewConv2dNoBias(ps *graphs.ParamSet, name string, in, out, kernel, stride, pad int, std float64, rng *rand.Rand) *Conv2d {
	c := &Conv2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad, Weight: ps.Add(name+".weight", out, in, kernel, kernel)}
	NormalInit(c.Weight, std, rng)
	return c
}

// Forward applies the convolution to x of shape (B, In, H, W), as the
// project's own op (ops.Conv2d).
func (c *Conv2d) Forward(b *graphs.Bound, x *G.Node) *G.Node {
	bias := biasNode(b, c.Bias, c.Out) // bound before the weight
	return ops.Conv2d(x, c.SN.weightOf(b, c.Weight), bias, c.Stride, c.Pad, b.IsInput(x))
}

// biasNode is a convolution's bias bound as (1, out), or nil without one.
func biasNode(b *graphs.Bound, bias *graphs.Param, out int) *G.Node {
	if bias == nil {
		return nil
	}
	return b.Node(bias, 1, out)
}

// ConvTranspose2d is PyTorch's nn.ConvTranspose2d with square kernels:
// weight (in, out, k, k), optional bias (out).
type ConvTranspose2d struct {
	In, Out, Kernel, Stride, Pad int
	Weight, Bias                 *graphs.Param
}

// NewConvTranspose2d adds name.weight and name.bias to ps, initialized as
// PyTorch does: its fan-in is weight.size(1) * k * k, the output channels.
func NewConvTranspose2d(ps *graphs.ParamSet, name string, in, out, kernel, stride, pad int, rng *rand.Rand) *ConvTranspose2d {
	c := &ConvTranspose2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad,
		Weight: ps.Add(name+".weight", in, out, kernel, kernel), Bias: ps.Add(name+".bias", out)}
	fanIn := out * kernel * kernel
	UniformInit(c.Weight, fanIn, rng)
	UniformInit(c.Bias, fanIn, rng)
	return c
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
	bias := biasNode(b, c.Bias, c.Out)
	return ops.ConvTranspose2d(x, b.Node(c.Weight), bias, c.Stride, c.Pad, b.IsInput(x))
}

// MaxPool2 halves height and width with 2x2 max pooling.
func MaxPool2(x *G.Node) *G.Node {
	return must(G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
}
