package vec32

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The kernels' benchmarks, on the sizes of UNet-S on MNIST (planes of
// 28x28, 14x14 and 7x7; a group of 4 channels of 28x28 for the sums).
// GODEBUG=cpu.avx512f=off (and cpu.avx2=off) time the other paths.

func randFloats(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

var benchSink float64

func BenchmarkNorm(b *testing.B) {
	for _, n := range []int{196, 3136} {
		d, x, y := randFloats(n, 1), randFloats(n, 2), make([]float32, n)
		b.Run(fmt.Sprintf("Sum/%d", n), func(b *testing.B) {
			for range b.N {
				benchSink += Sum(x)
			}
		})
		b.Run(fmt.Sprintf("SumSquares/%d", n), func(b *testing.B) {
			for range b.N {
				s, q := SumSquares(x)
				benchSink += s + q
			}
		})
		b.Run(fmt.Sprintf("SumCentered/%d", n), func(b *testing.B) {
			for range b.N {
				s, q := SumCentered(d, x, 0.25)
				benchSink += s + q
			}
		})
		b.Run(fmt.Sprintf("Affine/%d", n), func(b *testing.B) {
			for range b.N {
				Affine(x, y, 1.5, 0.25)
			}
		})
		b.Run(fmt.Sprintf("NormGrad/%d", n), func(b *testing.B) {
			for range b.N {
				NormGrad(d, x, y, 0.5, -0.25, 0.125, 0.0625)
			}
		})
	}
}

func BenchmarkWinograd(b *testing.B) {
	for _, side := range []int{28, 14, 7} {
		ty, tx := (side+1)/2, (side+1)/2
		stride := ty*tx + 16
		pad := randFloats((2*ty+2)*(2*tx+2), 3)
		v, m := make([]float32, 16*stride), randFloats(16*stride, 4)
		plane := randFloats(side*side, 5)
		b.Run(fmt.Sprintf("Input/%d", side), func(b *testing.B) {
			for range b.N {
				WinogradInput(v, stride, pad, ty, tx)
			}
		})
		b.Run(fmt.Sprintf("Output/%d", side), func(b *testing.B) {
			for range b.N {
				WinogradOutput(plane, side, side, m, stride, 0.5)
			}
		})
		b.Run(fmt.Sprintf("OutputGrad/%d", side), func(b *testing.B) {
			for range b.N {
				WinogradOutputGrad(v, stride, plane, side, side)
			}
		})
	}
}

func BenchmarkIm2colStride2(b *testing.B) {
	for _, side := range []int{28, 14} {
		plane := randFloats(side*side, 6)
		ho := (side+2-3)/2 + 1
		dst := make([]float32, ho*ho)
		b.Run(fmt.Sprint(side), func(b *testing.B) {
			// All 9 offsets of a 3x3 kernel with padding 1, as a
			// convolution takes them.
			for range b.N {
				for ky := range 3 {
					for kx := range 3 {
						Im2colStride2(dst, plane, side, side, ho, ho, ky, kx, 1)
					}
				}
			}
		})
	}
}

func BenchmarkSiLU(b *testing.B) {
	n := 3136
	x, dy := randFloats(n, 7), randFloats(n, 8)
	s, y, dx := make([]float32, n), make([]float32, n), make([]float32, n)
	b.Run("Forward", func(b *testing.B) {
		for range b.N {
			SiLU(x, s, y)
		}
	})
	b.Run("Grad", func(b *testing.B) {
		for range b.N {
			SiLUGrad(x, s, dy, dx)
		}
	})
}
