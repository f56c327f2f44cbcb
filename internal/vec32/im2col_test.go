package vec32

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIm2colStride2MatchesGo compares the AVX-512 gather with the Go loop
// over even and odd planes, every kernel offset of 3x3 and 4x4 kernels, and
// paddings that put rows and columns off the plane; the values beyond the
// output must stay untouched.
func TestIm2colStride2MatchesGo(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine")
	}
	defer func() { useAVX512 = true }()
	const guard = 5.5
	for _, c := range []struct{ h, w, k, p int }{{28, 28, 3, 1}, {14, 14, 3, 1}, {7, 7, 3, 1}, {28, 28, 4, 1}, {13, 9, 3, 1}, {1, 1, 3, 1}, {32, 31, 3, 0}, {5, 30, 5, 2}} {
		ho, wo := (c.h+2*c.p-c.k)/2+1, (c.w+2*c.p-c.k)/2+1
		r := rand.New(rand.NewPCG(uint64(c.h), uint64(c.w)))
		plane := make([]float32, c.h*c.w)
		for i := range plane {
			plane[i] = float32(r.NormFloat64())
		}
		for ky := range c.k {
			for kx := range c.k {
				t.Run(fmt.Sprintf("%+v/ky%d/kx%d", c, ky, kx), func(t *testing.T) {
					run := func(avx bool) []float32 {
						useAVX512 = avx
						dst := make([]float32, ho*wo+4)
						for i := range dst {
							dst[i] = guard
						}
						Im2colStride2(dst, plane, c.h, c.w, ho, wo, ky, kx, c.p)
						return dst
					}
					want, got := run(false), run(true)
					for i := range want {
						if got[i] != want[i] || (i >= ho*wo && got[i] != guard) {
							t.Fatalf("dst[%d] = %v, want %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}
