package vec32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormKernelsMatchGo requires the AVX-512 normalization kernels to give
// the Go loops' bits, with and without a tail, and the sums to be the sums.
func TestNormKernelsMatchGo(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 here: the kernels are the Go loops")
	}
	defer func() { useAVX512 = true }()
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 15, 16, 17, 100, 784, 3136} {
		d, x := make([]float32, n), make([]float32, n)
		for i := range d {
			d[i] = float32(rng.NormFloat64())
			x[i] = float32(rng.NormFloat64()*3 + 1)
		}
		type result struct {
			plain, sum, sq, sd, sdx float64
			y, dx                   []float32
		}
		run := func(avx bool) result {
			useAVX512 = avx
			var r result
			r.plain = Sum(x)
			r.sum, r.sq = SumSquares(x)
			r.sd, r.sdx = SumCentered(d, x, 0.75)
			r.y, r.dx = make([]float32, n), make([]float32, n)
			Affine(x, r.y, 1.5, -0.25)
			NormGrad(d, x, r.dx, 0.5, -0.125, 0.75, 0.0625)
			return r
		}
		want, got := run(false), run(true)
		if got.plain != want.plain || got.plain != want.sum {
			t.Fatalf("n %d: Sum %v, Go %v, SumSquares' sum %v", n, got.plain, want.plain, want.sum)
		}
		if got.sum != want.sum || got.sq != want.sq || got.sd != want.sd || got.sdx != want.sdx {
			t.Fatalf("n %d: sums %v %v %v %v, Go %v %v %v %v", n, got.sum, got.sq, got.sd, got.sdx, want.sum, want.sq, want.sd, want.sdx)
		}
		for i := range x {
			if got.y[i] != want.y[i] || got.dx[i] != want.dx[i] {
				t.Fatalf("n %d, element %d: y %v dx %v, Go %v %v", n, i, got.y[i], got.dx[i], want.y[i], want.dx[i])
			}
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
				t.Fatalf("n %d: sum %v, want %v", n, c[0], c[1])
			}
		}
	}
}
