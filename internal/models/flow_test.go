package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogitTransform checks the preprocessing's log-determinant against the
// derivative of the map by central differences, and that inverse returns
// the dequantized pixel.
func TestLogitTransform(t *testing.T) {
	l := logitTransform{0.05}
	x := []float32{0, 0.5, 1, 37.0 / 255}
	y := make([]float32, 4)
	ld := make([]float64, 1)
	l.forward(y, x, 4, rand.New(rand.NewPCG(1, 1)), ld)
	// Recover each dequantized value from y, then differentiate the map.
	var want float64
	for _, v := range y {
		s := 1 / (1 + math.Exp(-float64(v)))
		d := (s - 0.05) / 0.9 // the dequantized value in [0, 1)
		f := func(u float64) float64 { p := 0.05 + 0.9*u; return math.Log(p) - math.Log1p(-p) }
		const h = 1e-6
		want += math.Log((f(d+h)-f(d-h))/(2*h)) - math.Log(256)
	}
	if math.Abs(ld[0]-want) > 1e-3 {
		t.Errorf("log|det| %v, derivative gives %v", ld[0], want)
	}
	back := make([]float32, 4)
	l.inverse(back, y)
	for i := range x {
		// The dequantized value of level k is in [k/256, (k+1)/256).
		lo, hi := float64(x[i])*255/256, (float64(x[i])*255+1)/256
		if v := float64(back[i]); v < lo-1e-6 || v > hi+1e-6 {
			t.Errorf("pixel %v came back as %v, outside [%v, %v)", x[i], v, lo, hi)
		}
	}
	if got := bitsPerDim(784*math.Ln2, 784); math.Abs(got-1) > 1e-12 {
		t.Errorf("bitsPerDim: %v", got)
	}
}
