package vec32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormKernelsMatchGo requires every kernel path (AVX-512, AVX2) to give
// the Go loops' bits, over lengths around each vector width (8 and 16
// lanes), with and without a tail, on unaligned slices, in place, and with
// signed zeros and extremes among the values; the values past the output
// must stay untouched, and the sums must be the sums.
func TestNormKernelsMatchGo(t *testing.T) {
	const guard = 9.5
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 100, 784, 3136} {
		for _, shift := range []int{0, 1} {
			t.Run(fmt.Sprintf("n%d/shift%d", n, shift), func(t *testing.T) {
				d, x := make([]float32, n+shift)[shift:], make([]float32, n+shift)[shift:]
				for i := range d {
					d[i] = float32(rng.NormFloat64())
					x[i] = float32(rng.NormFloat64()*3 + 1)
				}
				for i, v := range []float32{0, float32(math.Copysign(0, -1)), 3e18, -2e18, 1e-40} {
					if i*5+3 < n {
						x[i*5+2], d[i*5+3] = v, v
					}
				}
				type result struct {
					plain, sum, sq, sd, sdx float64
					y, dx, self             []float32
				}
				run := func() result {
					var r result
					r.plain = Sum(x)
					r.sum, r.sq = SumSquares(x)
					r.sd, r.sdx = SumCentered(d, x, 0.75)
					r.y, r.dx = make([]float32, n+2), make([]float32, n+2)
					r.y[n], r.y[n+1], r.dx[n], r.dx[n+1] = guard, guard, guard, guard
					Affine(x, r.y[:n], 1.5, -0.25)
					NormGrad(d, x, r.dx[:n], 0.5, -0.125, 0.75, 0.0625)
					r.self = append([]float32(nil), x...)
					Affine(r.self, r.self, 1, 0.375)
					return r
				}
				var want result
				forEachPath(t, func(p kernelPath) {
					got := run()
					if p.name == "Go" {
						want = got
						return
					}
					if math.Float64bits(got.plain) != math.Float64bits(want.plain) {
						t.Fatalf("%s: Sum %v, Go %v", p.name, got.plain, want.plain)
					}
					gs := []float64{got.sum, got.sq, got.sd, got.sdx}
					ws := []float64{want.sum, want.sq, want.sd, want.sdx}
					for i := range gs {
						if math.Float64bits(gs[i]) != math.Float64bits(ws[i]) {
							t.Fatalf("%s: sums %v, Go %v", p.name, gs, ws)
						}
					}
					for i := range got.y {
						if math.Float32bits(got.y[i]) != math.Float32bits(want.y[i]) || math.Float32bits(got.dx[i]) != math.Float32bits(want.dx[i]) {
							t.Fatalf("%s: element %d: y %v dx %v, Go %v %v", p.name, i, got.y[i], got.dx[i], want.y[i], want.dx[i])
						}
					}
					for i := range got.self {
						if math.Float32bits(got.self[i]) != math.Float32bits(want.self[i]) {
							t.Fatalf("%s: in place, element %d: %v, Go %v", p.name, i, got.self[i], want.self[i])
						}
					}
				})
				if want.y[n] != guard || want.y[n+1] != guard || want.dx[n] != guard || want.dx[n+1] != guard {
					t.Fatalf("written past the output")
				}
				if want.plain != want.sum {
					t.Fatalf("Sum %v, SumSquares' sum %v", want.plain, want.sum)
				}
				// And the sums are the sums.
				var s, q, sd, sdx float64
				for i, v := range x {
					s += float64(v)
					q += float64(v) * float64(v)
					sd += float64(d[i])
					sdx += float64(d[i]) * (float64(v) - 0.75)
				}
				for _, c := range [][2]float64{{want.sum, s}, {want.sq, q}, {want.sd, sd}, {want.sdx, sdx}} {
					if math.Abs(c[0]-c[1]) > 1e-9*math.Max(1, math.Abs(c[1])) {
						t.Fatalf("sum %v, want %v", c[0], c[1])
					}
				}
			})
		}
	}
}
