package vec32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIm2colStride2MatchesGo compares every kernel path (AVX-512, AVX2)
// with the Go loop over even and odd planes, every kernel offset of 1x1 to
// 7x7 kernels, and paddings that put rows and columns off the plane, with
// output rows of 1 to 17 values (around the AVX2 kernel's 8 and 16); the
// values beyond the output must stay untouched. Each case runs again on
// buffers of just the needed size next to an inaccessible page: the plane
// at its start, then at its end, and the output at its end, so a read or
// write past them faults.
func TestIm2colStride2MatchesGo(t *testing.T) {
	const guard = 5.5
	cases := []struct{ h, w, k, p int }{
		{28, 28, 3, 1}, {14, 14, 3, 1}, {7, 7, 3, 1}, {28, 28, 4, 1}, {13, 9, 3, 1}, {1, 1, 3, 1},
		{32, 31, 3, 0}, {5, 30, 5, 2}, {3, 33, 3, 1}, {4, 34, 3, 1}, {9, 40, 7, 3}, {2, 2, 1, 0},
		{6, 15, 3, 1}, {6, 16, 3, 1}, {6, 17, 3, 1}, {3, 17, 1, 0}, {5, 29, 2, 0}, {8, 3, 3, 2},
	}
	for _, c := range cases {
		ho, wo := (c.h+2*c.p-c.k)/2+1, (c.w+2*c.p-c.k)/2+1
		r := rand.New(rand.NewPCG(uint64(c.h), uint64(c.w)))
		src := make([]float32, c.h*c.w)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		for ky := range c.k {
			for kx := range c.k {
				t.Run(fmt.Sprintf("%+v/ky%d/kx%d", c, ky, kx), func(t *testing.T) {
					var want []float32
					forEachPath(t, func(p kernelPath) {
						dst := make([]float32, ho*wo+4)
						for i := range dst {
							dst[i] = guard
						}
						Im2colStride2(dst, src, c.h, c.w, ho, wo, ky, kx, c.p)
						if p.name == "Go" {
							want = dst
							return
						}
						for i := range want {
							if math.Float32bits(dst[i]) != math.Float32bits(want[i]) || (i >= ho*wo && dst[i] != guard) {
								t.Fatalf("%s: dst[%d] = %v, want %v", p.name, i, dst[i], want[i])
							}
						}
						for _, atStart := range []bool{true, false} {
							plane := guardedFloats(t, c.h*c.w, atStart)
							copy(plane, src)
							out := guardedFloats(t, ho*wo, false)
							Im2colStride2(out, plane, c.h, c.w, ho, wo, ky, kx, c.p)
							for i := range out {
								if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s: guarded dst[%d] = %v, want %v", p.name, i, out[i], want[i])
								}
							}
						}
					})
				})
			}
		}
	}
}
