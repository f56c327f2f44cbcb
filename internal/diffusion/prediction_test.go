package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPredictionsRecoverEps checks that the exact target of every prediction,
// converted back by EpsFrom, is the noise that made x_t.
func TestPredictionsRecoverEps(t *testing.T) {
	s, err := NewSchedule(Linear, 1000, 1e-4, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	const pixels = 16
	rng := rand.New(rand.NewPCG(1, 2))
	x0, eps := make([]float32, pixels), make([]float32, pixels)
	for i := range x0 {
		x0[i] = float32(2*rng.Float64() - 1)
		eps[i] = float32(rng.NormFloat64())
	}
	for _, p := range []Prediction{PredictEps, PredictV, PredictX0} {
		for _, step := range []int{0, 10, 500, 999} {
			ts := []int{step}
			xt, out := make([]float32, pixels), make([]float32, pixels)
			s.QSample(xt, x0, eps, ts, pixels)
			s.Target(p, out, x0, eps, ts, pixels)
			s.EpsFrom(p, out, xt, step)
			// x0's conversion divides by sqrt(1 - abar_0) = 0.01 at t = 0.
			tol := 1e-5 / math.Sqrt(1-s.ABar[step])
			for i := range out {
				if d := math.Abs(float64(out[i] - eps[i])); d > tol {
					t.Fatalf("%s at t=%d: eps[%d] %g, want %g", p, step, i, out[i], eps[i])
				}
			}
		}
	}
}

// TestMinSNRWeight checks the weights against their definition: each is
// min(SNR, gamma) once its prediction's loss is written in x_0 space, where
// ||eps err||^2 = SNR ||x0 err||^2 and ||v err||^2 = (SNR+1) ||x0 err||^2.
func TestMinSNRWeight(t *testing.T) {
	s, err := NewSchedule(Cosine, 1000, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	scale := map[Prediction]func(snr float64) float64{
		PredictEps: func(snr float64) float64 { return snr },
		PredictV:   func(snr float64) float64 { return snr + 1 },
		PredictX0:  func(float64) float64 { return 1 },
	}
	for p, f := range scale {
		for _, step := range []int{0, 100, 400, 999} {
			snr := s.SNR(step)
			got := s.MinSNRWeight(p, step, 5) * f(snr)
			if want := math.Min(snr, 5); math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Errorf("%s at t=%d: x0-space weight %g, want min(SNR %g, 5)", p, step, got, snr)
			}
		}
	}
	if _, err := ParsePrediction("epsilon"); err == nil {
		t.Error("ParsePrediction accepted epsilon")
	}
}
