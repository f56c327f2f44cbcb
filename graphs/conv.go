package graphs

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d is PyTorch's nn.Conv2d with square kernels: weight (out, in, k, k),
// bias (out).
type Conv2d struct {
	In, Out, Kernel, Stride, Pad int
	Weight, Bias                 *Param
	sn                           *spectralNorm // nil, or the normalization Forward divides Weight by
}

// NewConv2d adds name.weight and name.bias to ps, initialized as PyTorch does.
func NewConv2d(ps *ParamSet, name string, in, out, kernel, stride, pad int, rng *rand.Rand) *Conv2d {
	c := &Conv2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad,
		Weight: ps.Add(name+".weight", out, in, kernel, kernel), Bias: ps.Add(name+".bias", out)}
	fanIn := in * kernel * kernel
	uniformInit(c.Weight, fanIn, rng)
	uniformInit(c.Bias, fanIn, rng)
	return c
}

// NewConv2dNoBias is NewConv2d with bias=False, the DCGAN convention for a
// convolution followed by batch normalization (which has its own shift);
// weights are drawn from N(0, std) as the DCGAN recipe prescribes.
func NewConv2dNoBias(ps *ParamSet, name string, in, out, kernel, stride, pad int, std float64, rng *rand.Rand) *Conv2d {
	c := &Conv2d{In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad, Weight: ps.Add(name+".weight", out, in, kernel, kernel)}
	normalInit(c.Weight, std, rng)
	return c
}

// Forward applies the convolution to x of shape (B, In, H, W), as the
// project's own op (see convOp).
func (c *Conv2d) Forward(b *Bound, x *G.Node) *G.Node {
	var bias *G.Node
	if c.Bias != nil {
		bias = b.Node(c.Bias, 1, c.Out)
	}
	return conv(x, c.sn.weightOf(b, c.Weight), bias, c.Stride, c.Pad, b.IsInput(x))
}

// normalInit fills p from N(0, std).
func normalInit(p *Param, std float64, rng *rand.Rand) {
	for i := range p.Data {
		p.Data[i] = float32(std * rng.NormFloat64())
	}
}

// MaxPool2 halves height and width with 2x2 max pooling.
func MaxPool2(x *G.Node) *G.Node {
	return must(G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
}
