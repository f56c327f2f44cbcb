package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func gaussianSamples(rng *rand.Rand, n int, mean, std []float64) []float64 {
	d := len(mean)
	x := make([]float64, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x[i*d+j] = mean[j] + std[j]*rng.NormFloat64()
		}
	}
	return x
}

func TestFitGaussian(t *testing.T) {
	// Three 2-D points with known mean and unbiased covariance.
	g, err := FitGaussian([]float64{0, 0, 2, 0, 1, 3}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g.Mean[0] != 1 || g.Mean[1] != 1 {
		t.Errorf("mean %v, want [1 1]", g.Mean)
	}
	// Deviations: (-1,-1), (1,-1), (0,2): cov = [[2, 0], [0, 6]] / 2.
	want := [2][2]float64{{1, 0}, {0, 3}}
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			if math.Abs(g.Cov.At(i, j)-want[i][j]) > 1e-12 {
				t.Errorf("cov[%d][%d] = %v, want %v", i, j, g.Cov.At(i, j), want[i][j])
			}
		}
	}
	if _, err := FitGaussian([]float64{1, 2}, 1, 2); err == nil {
		t.Error("a Gaussian fitted to one vector")
	}
}

// TestFrechetDistanceClosedForm compares with the formula for diagonal
// covariances: sum (m1-m2)^2 + (s1-s2)^2 over dimensions (s the std).
func TestFrechetDistanceClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name           string
		m1, s1, m2, s2 []float64
	}{
		{"same", []float64{0, 0, 0}, []float64{1, 1, 1}, []float64{0, 0, 0}, []float64{1, 1, 1}},
		{"shifted mean", []float64{0, 0, 0}, []float64{1, 1, 1}, []float64{1, 2, 0}, []float64{1, 1, 1}},
		{"scaled", []float64{0, 0, 0}, []float64{1, 2, 0.5}, []float64{0, 0, 0}, []float64{2, 2, 1}},
		{"both", []float64{1, -1, 0}, []float64{1, 3, 0.1}, []float64{0, 0, 2}, []float64{0.5, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const n = 40000
			a, _ := FitGaussian(gaussianSamples(rng, n, c.m1, c.s1), n, 3)
			b, _ := FitGaussian(gaussianSamples(rng, n, c.m2, c.s2), n, 3)
			got, err := FrechetDistance(a, b)
			if err != nil {
				t.Fatal(err)
			}
			var want float64
			for j := range c.m1 {
				want += (c.m1[j]-c.m2[j])*(c.m1[j]-c.m2[j]) + (c.s1[j]-c.s2[j])*(c.s1[j]-c.s2[j])
			}
			if math.Abs(got-want) > 0.05+0.03*want {
				t.Errorf("FID %.4f, closed form %.4f", got, want)
			}
		})
	}
}

// TestFrechetDistanceSingularCovariance: features that never vary (a dead
// ReLU unit) make the covariance singular; the distance must stay finite
// and zero for identical sets.
func TestFrechetDistanceSingularCovariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := gaussianSamples(rng, 500, []float64{0, 1, 5}, []float64{1, 0, 2})
	g, _ := FitGaussian(x, 500, 3)
	got, err := FrechetDistance(g, g)
	if err != nil || math.IsNaN(got) || got > 1e-9 {
		t.Fatalf("FID of a set with itself = %v, %v; want 0", got, err)
	}
}

func TestPrecisionRecall(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, d = 400, 4
	real := gaussianSamples(rng, n, []float64{0, 0, 0, 0}, []float64{1, 1, 1, 1})
	same := gaussianSamples(rng, n, []float64{0, 0, 0, 0}, []float64{1, 1, 1, 1})
	far := gaussianSamples(rng, n, []float64{50, 50, 50, 50}, []float64{1, 1, 1, 1})
	// A mode-collapsed generator: every sample near one real point.
	collapsed := gaussianSamples(rng, n, []float64{0, 0, 0, 0}, []float64{0.05, 0.05, 0.05, 0.05})
	cases := []struct {
		name                   string
		fake                   []float64
		minP, maxP, minR, maxR float64
	}{
		{"same distribution", same, 0.8, 1, 0.8, 1},
		{"far away", far, 0, 0, 0, 0},
		{"collapsed", collapsed, 0.95, 1, 0, 0.1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, r, err := PrecisionRecall(real, n, c.fake, n, d, 3)
			if err != nil {
				t.Fatal(err)
			}
			if p < c.minP || p > c.maxP || r < c.minR || r > c.maxR {
				t.Errorf("precision %.3f recall %.3f, want precision in [%g,%g], recall in [%g,%g]", p, r, c.minP, c.maxP, c.minR, c.maxR)
			}
		})
	}
	if _, _, err := PrecisionRecall(real, 3, same, 3, d, 3); err == nil {
		t.Error("k=3 accepted with 3 points")
	}
}

func TestClassCoverage(t *testing.T) {
	oneHot := func(classes ...int) []float64 {
		p := make([]float64, 10*len(classes))
		for i, c := range classes {
			p[i*10+c] = 1
		}
		return p
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	c := ClassCoverage(oneHot(all...), 10)
	if c.Classes != 10 || math.Abs(c.EntropyBits-math.Log2(10)) > 1e-9 || math.Abs(c.MeanTopProb-1) > 1e-9 || math.Abs(c.ClassifierScore-10) > 1e-9 {
		t.Errorf("uniform confident: %+v", c)
	}
	c = ClassCoverage(oneHot(7, 7, 7, 7), 4)
	if c.Classes != 1 || c.EntropyBits != 0 || c.Histogram[7] != 4 || math.Abs(c.ClassifierScore-1) > 1e-9 {
		t.Errorf("one class: %+v", c)
	}
	flat := make([]float64, 20)
	for i := range flat {
		flat[i] = 0.1
	}
	if c = ClassCoverage(flat, 2); math.Abs(c.MeanTopProb-0.1) > 1e-9 || math.Abs(c.ClassifierScore-1) > 1e-9 {
		t.Errorf("unsure: %+v", c)
	}
}

func TestClassMatch(t *testing.T) {
	f := &Features{N: 4, Probs: []float64{
		0, 0, 0, 0, 0, 0, 0, 0.9, 0.1, 0,
		0, 0, 0, 0, 0, 0, 0, 0.6, 0.4, 0,
		0, 0, 0, 0, 0, 0, 0, 0.2, 0.8, 0,
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	}}
	if got := ClassMatch(f, 7); got != 0.5 {
		t.Errorf("ClassMatch(7) = %v, want 0.5", got)
	}
	if got := ClassMatch(f, 3); got != 0 {
		t.Errorf("ClassMatch(3) = %v, want 0", got)
	}
}
