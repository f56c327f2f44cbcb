package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the convolutions: Conv2d against Gorgonia's, its Winograd and
// weight-gradient kernels against im2col, and ConvTranspose2d against the
// definition.

// TestConvOpMatchesGorgoniaConv compares the project's convolution with
// Gorgonia's Conv2d (plus a broadcast bias): outputs and the gradients of
// input, filters and bias, over strides, paddings and kernel sizes.
func TestConvOpMatchesGorgoniaConv(t *testing.T) {
	cases := []struct{ b, c, h, o, k, s, p int }{
		{2, 1, 5, 3, 3, 1, 1},
		{2, 2, 6, 3, 4, 2, 1},
		{1, 3, 7, 2, 3, 2, 0},
		{3, 2, 4, 4, 1, 1, 0},
		{1, 1, 2, 2, 3, 1, 1},
		{2, 2, 3, 2, 3, 1, 2},
		{1, 2, 5, 2, 3, 3, 2},
		{2, 3, 6, 2, 5, 1, 2},  // same size, wider kernel
		{2, 1, 7, 4, 1, 1, 0},  // 1x1
		{3, 2, 24, 3, 3, 1, 1}, // 576 outputs per channel: one image per product
		{2, 1, 46, 2, 3, 2, 1}, // the same, strided
		{2, 3, 1, 2, 3, 1, 1},  // a 1x1 image: every tap but the centre is padding
		{1, 2, 2, 2, 5, 1, 2},  // shifts larger than the image
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.c), uint64(c.k)))
			ps := graphs.NewParamSet()
			fanIn := c.c * c.k * c.k
			weight := gradcheck.UniformParam(ps, "conv.weight", fanIn, rng, c.o, c.c, c.k, c.k)
			biasP := gradcheck.UniformParam(ps, "conv.bias", fanIn, rng, c.o)
			x := gradcheck.RandomParam(ps, "x", rng, c.b, c.c, c.h, c.h)
			run := func(ours bool) ([]float32, map[string][]float32) {
				return gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
					xn, w := b.Node(x), b.Node(weight)
					bias := b.Node(biasP, 1, c.o)
					if ours {
						y = Conv2d(xn, w, bias, c.s, c.p, false)
					} else {
						y = must(G.Conv2d(xn, w, tensor.Shape{c.k, c.k}, []int{c.p, c.p}, []int{c.s, c.s}, []int{1, 1}))
						y = must(G.BroadcastAdd(y, Reshape(bias, 1, c.o, 1, 1), nil, []byte{0, 2, 3}))
					}
					return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
				})
			}
			y1, g1 := run(true)
			y2, g2 := run(false)
			gradcheck.AssertNear(t, "y", y1, y2)
			for _, name := range []string{"x", "conv.weight", "conv.bias"} {
				gradcheck.AssertNear(t, "d"+name, g1[name], g2[name])
			}
		})
	}
}

// TestWinogradMatchesDirect runs 3x3 same-size convolutions (values and
// every gradient, the input's through the flipped-kernel adjoint) once
// through F(2x2, 3x3) and once through im2col, over even and odd sizes.
func TestWinogradMatchesDirect(t *testing.T) {
	defer func(old int) { winogradMinChannels = old }(winogradMinChannels)
	cases := []struct{ b, c, h, o int }{{2, 3, 6, 4}, {1, 2, 7, 3}, {3, 4, 5, 2}, {2, 1, 1, 2}, {1, 5, 2, 5}, {2, 8, 28, 8}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.c), uint64(c.h)))
			ps := graphs.NewParamSet()
			weight := gradcheck.UniformParam(ps, "conv.weight", c.c*9, rng, c.o, c.c, 3, 3)
			bias := gradcheck.UniformParam(ps, "conv.bias", c.c*9, rng, c.o)
			x := gradcheck.RandomParam(ps, "x", rng, c.b, c.c, c.h, c.h)
			run := func(minChannels int) ([]float32, map[string][]float32) {
				winogradMinChannels = minChannels
				return gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
					y = Conv2d(b.Node(x), b.Node(weight), b.Node(bias, 1, c.o), 1, 1, false)
					return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
				})
			}
			y1, g1 := run(1)
			y2, g2 := run(1 << 30)
			gradcheck.AssertNear(t, "y", y1, y2)
			for _, name := range []string{"x", "conv.weight", "conv.bias"} {
				gradcheck.AssertNear(t, "d"+name, g1[name], g2[name])
			}
		})
	}
}

// TestWeightGradSameMatchesIm2col compares the filter gradient from padded
// windows with im2col's, over kernel sizes, odd and non-square images, and
// enough small images for several chunks.
func TestWeightGradSameMatchesIm2col(t *testing.T) {
	cases := []convGeom{
		{B: 2, C: 3, H: 6, W: 6, O: 4, K: 3, P: 1},
		{B: 1, C: 2, H: 7, W: 5, O: 3, K: 3, P: 1},
		{B: 3, C: 4, H: 5, W: 5, O: 2, K: 1, P: 0},
		{B: 2, C: 3, H: 4, W: 6, O: 2, K: 5, P: 2},
		{B: 1, C: 1, H: 1, W: 1, O: 1, K: 3, P: 1},
		{B: 200, C: 2, H: 3, W: 3, O: 17, K: 3, P: 1},
	}
	for _, g := range cases {
		g.S, g.Ho, g.Wo = 1, g.H, g.W
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(g.B), uint64(g.K)))
			fill := func(n int) []float32 { return normalSlice(rng, n) }
			x, w, dy := fill(g.B*g.C*g.H*g.W), fill(g.O*g.C*g.K*g.K), fill(g.B*g.O*g.H*g.W)
			want := make([]float32, len(w))
			convOp{g: g, grad: 2}.images([][]float32{x, w, dy}, nil, want, 0, g.B, graphs.SgemmSerial)
			got := make([]float32, len(w))
			g.weightGradSame(x, dy, got, 0, g.B, graphs.SgemmSerial)
			gradcheck.AssertNear(t, "dW", got, want)
		})
	}
}

// TestWinogradWeightGradMatchesIm2col compares the filter gradient through
// F(2x2, 3x3) with im2col's, over even, odd and tiny images and enough
// images for several chunks.
func TestWinogradWeightGradMatchesIm2col(t *testing.T) {
	cases := []convGeom{
		{B: 2, C: 3, H: 6, W: 6, O: 4},
		{B: 1, C: 2, H: 7, W: 5, O: 3},
		{B: 3, C: 8, H: 28, W: 28, O: 8},
		{B: 2, C: 1, H: 1, W: 1, O: 2},
		{B: 40, C: 2, H: 7, W: 7, O: 17},
	}
	for _, g := range cases {
		g.K, g.S, g.P, g.Ho, g.Wo = 3, 1, 1, g.H, g.W
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(g.B), uint64(g.H)))
			fill := func(n int) []float32 { return normalSlice(rng, n) }
			x, w, dy := fill(g.B*g.C*g.H*g.W), fill(g.O*g.C*9), fill(g.B*g.O*g.H*g.W)
			want := make([]float32, len(w))
			convOp{g: g, grad: 2}.images([][]float32{x, w, dy}, nil, want, 0, g.B, graphs.SgemmSerial)
			got := make([]float32, len(w))
			g.winogradWeightGrad(x, dy, got, 0, g.B, graphs.SgemmSerial)
			gradcheck.AssertNear(t, "dW", got, want)
		})
	}
}

// convTransposeDirect is the definition of a transposed convolution as
// loops: every input pixel scatters its value times the filter into the
// output, at stride S, shifted by the padding.
func convTransposeDirect(x, w, bias []float32, b, in, h, out, k, s, p int) []float32 {
	ho := (h-1)*s - 2*p + k
	y := make([]float32, b*out*ho*ho)
	for n := 0; n < b; n++ {
		for o := 0; o < out; o++ {
			for i := 0; i < ho*ho; i++ {
				if bias != nil {
					y[(n*out+o)*ho*ho+i] = bias[o]
				}
			}
			for c := 0; c < in; c++ {
				for iy := 0; iy < h; iy++ {
					for ix := 0; ix < h; ix++ {
						v := x[((n*in+c)*h+iy)*h+ix]
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								oy, ox := iy*s-p+ky, ix*s-p+kx
								if oy < 0 || ox < 0 || oy >= ho || ox >= ho {
									continue
								}
								y[((n*out+o)*ho+oy)*ho+ox] += v * w[((c*out+o)*k+ky)*k+kx]
							}
						}
					}
				}
			}
		}
	}
	return y
}

// TestConvTransposeOp checks the op's values against the loops above and its
// gradients (input, filters, bias) against finite differences, over the
// shapes a DCGAN uses and odd ones.
func TestConvTransposeOp(t *testing.T) {
	cases := []struct{ b, in, h, out, k, s, p int }{
		{2, 3, 3, 2, 4, 2, 1}, // DCGAN: doubles the side
		{1, 2, 4, 3, 3, 1, 1}, // same size
		{2, 2, 3, 1, 3, 2, 0},
		{1, 1, 2, 2, 5, 3, 2},
		{3, 2, 1, 2, 7, 1, 0}, // 1x1 -> 7x7: a fully connected layer
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.in), uint64(c.k)))
			ps := graphs.NewParamSet()
			weight := gradcheck.NormalParam(ps, "deconv.weight", 0.5, rng, c.in, c.out, c.k, c.k)
			bias := gradcheck.NormalParam(ps, "deconv.bias", 0.5, rng, c.out)
			x := gradcheck.RandomParam(ps, "x", rng, c.b, c.in, c.h, c.h)
			var y, loss *G.Node
			b := gradcheck.Build(t, func(b *graphs.Bound) {
				y = ConvTranspose2d(b.Node(x), b.Node(weight), b.Node(bias, 1, c.out), c.s, c.p, false)
				loss = gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
			})
			prog, lossFn := gradcheck.Compile(t, b, loss, y)
			want := convTransposeDirect(x.Data, weight.Data, bias.Data, c.b, c.in, c.h, c.out, c.k, c.s, c.p)
			gradcheck.AssertNear(t, "y", prog.Value(y), want)
			gradcheck.Check(t, prog, lossFn, 40)
		})
	}
}

// normalSlice is n draws from N(0, 1).
func normalSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	gradcheck.FillNormal(rng, s)
	return s
}
