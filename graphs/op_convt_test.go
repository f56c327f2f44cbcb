package graphs

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
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
			ps := NewParamSet()
			ct := NewConvTranspose2dNoBias(ps, "deconv", c.in, c.out, c.k, c.s, c.p, 0.5, rng)
			ct.Bias = ps.Add("deconv.bias", c.out)
			normalInit(ct.Bias, 0.5, rng)
			x := ps.Add("x", c.b, c.in, c.h, c.h)
			normalInit(x, 1, rng)
			var b *Bound
			var y, loss *G.Node
			if err := Build("conv transpose test", func() {
				b = Bind(G.NewGraph())
				y = ct.Forward(b, b.Node(x))
				loss = weightedSum(y, rand.New(rand.NewPCG(1, 1)))
			}); err != nil {
				t.Fatal(err)
			}
			prog, lossFn := compileChecked(t, b, loss, y)
			want := convTransposeDirect(x.Data, ct.Weight.Data, ct.Bias.Data, c.b, c.in, c.h, c.out, c.k, c.s, c.p)
			assertNear(t, "y", prog.Value(y), want)
			checkGradients(t, prog, lossFn, 40)
		})
	}
}
