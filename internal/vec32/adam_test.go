package vec32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamMatchesGo runs the kernel and the Go loop on the same data, over
// lengths with and without a tail, and requires identical bits.
func TestAdamMatchesGo(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2 here: Adam is the Go loop")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	c := AdamConsts{B1: 0.9, B2: 0.999, Scale: 0.7, StepSize: 1e-3 / (1 - 0.81), SqrtBC2: float32(math.Sqrt(1 - 0.998001)), Eps: 1e-8}
	for _, n := range []int{8, 13, 64, 1000, 4099} {
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], g[i], m[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(0.1*rng.NormFloat64())
			v[i] = float32(rng.Float64() * 0.01)
		}
		g[0] = 0 // a zero gradient and moment: sqrt(0) + eps
		v[0], m[0] = 0, 0
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		for range 3 {
			Adam(w, g, m, v, c)
			adamGo(w2, g, m2, v2, c)
		}
		for i := range w {
			if w[i] != w2[i] || m[i] != m2[i] || v[i] != v2[i] {
				t.Fatalf("n %d, element %d: kernel w,m,v = %v,%v,%v; Go %v,%v,%v", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
		}
	}
}

// TestAdamStep checks one step against the formula in float64.
func TestAdamStep(t *testing.T) {
	c := AdamConsts{B1: 0.9, B2: 0.999, Scale: 1, StepSize: 0.01 / 0.1, SqrtBC2: float32(math.Sqrt(0.001)), Eps: 1e-8}
	w, g, m, v := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, []float32{0.5, -2, 0, 1, 1, 1, 1, 1, 3}, make([]float32, 9), make([]float32, 9)
	Adam(w, g, m, v, c)
	for i, gi := range g {
		// First step: m = 0.1 g, v = 0.001 g^2, so the update is lr * sign(g).
		want := 1 - 0.01*math.Copysign(1, float64(gi))
		if gi == 0 {
			want = 1
		}
		if math.Abs(float64(w[i])-want) > 1e-6 {
			t.Errorf("w[%d] = %v, want %v", i, w[i], want)
		}
	}
}
