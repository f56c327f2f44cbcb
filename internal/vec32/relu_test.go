package vec32

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestNotPositive(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		v    float32
		want int
	}{
		{1, 0}, {math.SmallestNonzeroFloat32, 0}, {math.MaxFloat32, 0}, {float32(math.Inf(1)), 0},
		{0, 1}, {negZero, 1}, {-math.SmallestNonzeroFloat32, 1}, {-2.5, 1}, {float32(math.Inf(-1)), 1},
	}
	for _, c := range cases {
		if got := notPositive(c.v); got != c.want {
			t.Errorf("notPositive(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestLeakyReLUKernelsMatchGo requires the AVX2 and AVX-512 kernels to give
// the Go loop's bits, over lengths with and without tails, slopes 0 (ReLU)
// and 0.2, and inputs with zeros of both signs, infinities and subnormals,
// and every path to give LeakyReLU's values (-Inf times slope 0 is NaN, as
// in PyTorch's LeakyReLU).
func TestLeakyReLUKernelsMatchGo(t *testing.T) {
	defer func(old bool) { useAVX512 = old }(useAVX512)
	for _, wide := range []bool{false, useAVX512} {
		useAVX512 = wide
		testLeakyKernels(t)
	}
}

func testLeakyKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}
	for _, slope := range []float32{0, 0.2} {
		for _, n := range []int{1, 8, 15, 16, 23, 40, 1024, 3001} {
			x, dy := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				dy[i] = float32(rng.NormFloat64())
			}
			copy(x, special)
			y1, y2, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			LeakyReLU(x, y1, slope)
			leakyGo(x, x, y2, slope)
			LeakyReLUGrad(x, dy, d1, slope)
			leakyGo(x, dy, d2, slope)
			for i, v := range x {
				if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) || math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
					t.Fatalf("slope %v, n %d, x %v: kernel y,dx = %v,%v; Go %v,%v", slope, n, v, y1[i], d1[i], y2[i], d2[i])
				}
				// And the values are LeakyReLU's.
				want, grad := v, dy[i]
				if !(v > 0) {
					want, grad = slope*v, slope*dy[i]
				}
				if !same(y1[i], want) || !same(d1[i], grad) {
					t.Fatalf("slope %v: LeakyReLU(%v) = %v, grad %v; want %v, %v", slope, v, y1[i], d1[i], want, grad)
				}
			}
		}
	}
}

// same is equality with NaN equal to NaN.
func same(a, b float32) bool { return a == b || a != a && b != b }

// TestAffineReLUKernelsMatchGo requires AffineReLU and ReLUGrad to give
// their Go loops' bits on every path, and relu(x*a + b) and its gradient.
func TestAffineReLUKernelsMatchGo(t *testing.T) {
	defer func(old bool) { useAVX512 = old }(useAVX512)
	for _, wide := range []bool{false, useAVX512} {
		useAVX512 = wide
		rng := rand.New(rand.NewPCG(6, 6))
		for _, n := range []int{1, 8, 15, 16, 23, 40, 1024, 3001} {
			x, dy := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				dy[i] = float32(rng.NormFloat64())
			}
			x[0] = float32(math.Copysign(0, -1))
			a, b := float32(1.7), float32(-0.3)
			y1, y2, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			AffineReLU(x, y1, a, b)
			affineReLUGo(x, y2, a, b)
			ReLUGrad(y1, dy, d1, a)
			reluGradGo(y1, dy, d2, a)
			for i, v := range x {
				if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) || math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
					t.Fatalf("n %d, x %v: kernel y,dx = %v,%v; Go %v,%v", n, v, y1[i], d1[i], y2[i], d2[i])
				}
				want, grad := float32(v*a)+b, dy[i]*a
				if !(want > 0) {
					want, grad = 0, 0
				}
				if math.Float32bits(y1[i]) != math.Float32bits(want) || math.Float32bits(d1[i]) != math.Float32bits(grad) {
					t.Fatalf("relu(%v*%v + %v) = %v, grad %v; want +%v, %v", v, a, b, y1[i], d1[i], want, grad)
				}
			}
		}
	}
}
