package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

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
			var b *graphs.Bound
			var y, loss *G.Node
			if err := graphs.Build("conv transpose test", func() {
				b = graphs.Bind(G.NewGraph())
				y = ConvTranspose2d(b.Node(x), b.Node(weight), b.Node(bias, 1, c.out), c.s, c.p, false)
				loss = gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
			}); err != nil {
				t.Fatal(err)
			}
			prog, lossFn := gradcheck.Compile(t, b, loss, y)
			want := convTransposeDirect(x.Data, weight.Data, bias.Data, c.b, c.in, c.h, c.out, c.k, c.s, c.p)
			gradcheck.AssertNear(t, "y", prog.Value(y), want)
			gradcheck.Check(t, prog, lossFn, 40)
		})
	}
}
