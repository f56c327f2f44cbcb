package vec32

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExp(t *testing.T) {
	worst := 0.0
	for i := 0; i <= 200000; i++ {
		x := float32(-87 + 175*float64(i)/200000)
		got := float64(Exp(x))
		want := math.Exp(float64(x))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1)))) - float64(float32(want))
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
		}
	}
	if worst > 2 {
		t.Errorf("worst error %.2f ulp, want <= 2", worst)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {1, float32(math.E)}, {-1000, float32(math.Exp(-87))}, {1000, float32(math.Exp(88))}} {
		if got := Exp(c.x); math.Abs(float64(got-c.want)) > 2e-7*float64(c.want) {
			t.Errorf("Exp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

// TestSiLUKernelsMatchGo requires the AVX2 and AVX-512 kernels to give the
// Go loops' bits, over lengths with and without a tail and inputs spanning
// the clamped range.
func TestSiLUKernelsMatchGo(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2 here: SiLU is the Go loop")
	}
	defer func(old bool) { useAVX512 = old }(useAVX512)
	for _, wide := range []bool{false, useAVX512} {
		useAVX512 = wide
		testSiLUKernels(t)
	}
}

func testSiLUKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{8, 21, 24, 1024, 3001} {
		x, dy := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 8)
			dy[i] = float32(rng.NormFloat64())
		}
		x[0], x[1], x[2] = 0, 200, -200
		s1, y1, s2, y2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		SiLU(x, s1, y1)
		siluGo(x, s2, y2)
		d1, d2 := make([]float32, n), make([]float32, n)
		SiLUGrad(x, s1, dy, d1)
		siluGradGo(x, s2, dy, d2)
		for i := range x {
			if s1[i] != s2[i] || y1[i] != y2[i] || d1[i] != d2[i] {
				t.Fatalf("n %d, x %v: kernel s,y,dx = %v,%v,%v; Go %v,%v,%v", n, x[i], s1[i], y1[i], d1[i], s2[i], y2[i], d2[i])
			}
		}
		// And the values are SiLU's.
		for i, v := range x {
			want := float64(v) / (1 + math.Exp(-float64(v)))
			if math.Abs(float64(y1[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("silu(%v) = %v, want %v", v, y1[i], want)
			}
		}
	}
}
