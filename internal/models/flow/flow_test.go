package flow

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/internal/models/modeltest"
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

// TestGlowInitializesOnFirstStep checks that the first training step
// initializes every ActNorm from its batch, and that training lowers the
// loss on a fixed batch.
func TestGlowInitializesOnFirstStep(t *testing.T) {
	m := modeltest.New(t, "glow", NewGlow, nil).(*Flow)
	net := m.net.(glowNet)
	// Sixteen copies of a horizontal ramp: structure a flow learns fast
	// (uniform noise would stay near 8 bits/dim).
	batch := modeltest.NoiseBatch(16)
	for i := range batch.X {
		batch.X[i] = float32(i%28) / 27
	}
	rng := rand.New(rand.NewPCG(1, 1))
	first, err := m.TrainStep(batch, 0, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range net.Levels {
		for _, st := range lv.Steps {
			if st.ActNorm.Initialized.Data[0] != 1 {
				t.Fatalf("%s not initialized by the first step", st.ActNorm.Initialized.Name)
			}
		}
	}
	start := first[0].Value
	var last float64
	for step := int64(1); step < 30; step++ {
		ms, err := m.TrainStep(batch, step, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		last = ms[0].Value
	}
	if !(last < start-0.5) {
		t.Errorf("bits/dim went from %v to %v on one batch in 30 steps", start, last)
	}
}

func TestLogitInverseCountsNaN(t *testing.T) {
	x := make([]float32, 3)
	nan := float32(math.NaN())
	if n := (logitTransform{0.05}).inverse(x, []float32{0, nan, float32(math.Inf(1))}); n != 1 || x[1] != 0 || x[2] != 1 {
		t.Errorf("%d non-finite, pixels %v", n, x)
	}
}
