package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSchedules(t *testing.T) {
	lin, err := NewSchedule(Linear, 1000, 1e-4, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	cos, err := NewSchedule(Cosine, 1000, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"linear beta_0", lin.Betas[0], 1e-4},
		{"linear beta_999", lin.Betas[999], 0.02},
		{"linear beta_500", lin.Betas[500], 1e-4 + (0.02-1e-4)*500/999},
		// Ho et al. 2020: abar_T of the linear schedule is about 4e-5.
		{"linear abar_999", lin.ABar[999], 4.0358e-5},
		{"cosine abar_499", cos.ABar[499], math.Pow(math.Cos((0.5+0.008)/1.008*math.Pi/2), 2) / math.Pow(math.Cos(0.008/1.008*math.Pi/2), 2)},
	} {
		if math.Abs(c.got-c.want) > 1e-3*c.want {
			t.Errorf("%s = %.6g, want %.6g", c.name, c.got, c.want)
		}
	}
	for _, s := range []*Schedule{lin, cos} {
		for i := 1; i < s.T(); i++ {
			if !(s.ABar[i] < s.ABar[i-1]) || s.ABar[i] <= 0 {
				t.Fatalf("abar not decreasing and positive at %d", i)
			}
		}
	}
	for _, bad := range []struct {
		kind   string
		T      int
		b0, b1 float64
	}{{"quadratic", 1000, 1e-4, 0.02}, {Linear, 1, 1e-4, 0.02}, {Linear, 1000, 0.02, 1e-4}, {Linear, 1000, 0, 0.02}} {
		if _, err := NewSchedule(bad.kind, bad.T, bad.b0, bad.b1); err == nil {
			t.Errorf("NewSchedule(%q, %d, %g, %g) accepted", bad.kind, bad.T, bad.b0, bad.b1)
		}
	}
}

// TestDDIMRecoversX0 checks DDIM's algebra: with the true noise as the
// prediction and eta 0, a step from t lands exactly on q(x_prev | x0) along
// the same noise, and the last step returns x0.
func TestDDIMRecoversX0(t *testing.T) {
	s, _ := NewSchedule(Linear, 1000, 1e-4, 0.02)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 50
	x0, eps := make([]float32, n), make([]float32, n)
	for i := range x0 {
		x0[i] = float32(rng.Float64()*2 - 1)
		eps[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, n)
	s.QSample(x, x0, eps, []int{700}, n)
	DDIM{Sched: s}.Step(x, eps, 700, 300, nil, rng)
	want := make([]float32, n)
	s.QSample(want, x0, eps, []int{300}, n)
	for i := range x {
		if math.Abs(float64(x[i]-want[i])) > 1e-4 {
			t.Fatalf("x_300[%d] = %v, want %v", i, x[i], want[i])
		}
	}
	DDIM{Sched: s}.Step(x, eps, 300, -1, nil, rng)
	for i := range x {
		if math.Abs(float64(x[i]-x0[i])) > 1e-4 {
			t.Fatalf("x0[%d] = %v, want %v", i, x[i], x0[i])
		}
	}
}

// TestDDIMClipsConsistently checks a step whose predicted x0 leaves [-1, 1]:
// x0 is clipped, and the direction is the noise that the clipped x0 implies,
// so the step lands on the deterministic DDIM path through clip(x0) instead
// of mixing the clipped x0 with the unclipped noise.
func TestDDIMClipsConsistently(t *testing.T) {
	s, _ := NewSchedule(Linear, 1000, 1e-4, 0.02)
	const t0, prev = 600, 200
	x0, eps := []float32{3, -2.5, 0.5}, []float32{0.7, -1.1, 0.3}
	x := make([]float32, len(x0))
	s.QSample(x, x0, eps, []int{t0}, len(x0))
	orig := append([]float32(nil), x...)
	DDIM{Sched: s, Clip: 1}.Step(x, eps, t0, prev, nil, nil)
	sa, sb := math.Sqrt(s.ABar[t0]), math.Sqrt(1-s.ABar[t0])
	for i, v := range x {
		clipped := math.Max(-1, math.Min(1, float64(x0[i])))
		implied := (float64(orig[i]) - sa*clipped) / sb
		want := math.Sqrt(s.ABar[prev])*clipped + math.Sqrt(1-s.ABar[prev])*implied
		if math.Abs(float64(v)-want) > 1e-5 {
			t.Errorf("x_prev[%d] = %v, want %v", i, v, want)
		}
	}
}

// TestAncestralStepMean checks the posterior-mean part of a DDPM step
// against the closed form mu = (x - beta/sqrt(1-abar) eps)/sqrt(alpha) at
// t = 0 (no noise), and the noise's variance beta_t at t > 0.
func TestAncestralStepMean(t *testing.T) {
	s, _ := NewSchedule(Linear, 1000, 1e-4, 0.02)
	x, eps := []float32{0.5, -0.25}, []float32{1, -2}
	Ancestral{s}.Step(x, eps, 0, -1, nil, nil)
	for i, x0 := range []float64{0.5, -0.25} {
		want := (x0 - 1e-4/math.Sqrt(1e-4)*[]float64{1, -2}[i]) / math.Sqrt(1-1e-4)
		if math.Abs(float64(x[i])-want) > 1e-5 {
			t.Errorf("t=0: x[%d] = %v, want %v", i, x[i], want)
		}
	}
	n := 20000
	big, zero := make([]float32, n), make([]float32, n)
	Ancestral{s}.Step(big, zero, 999, -1, nil, rand.New(rand.NewPCG(3, 3)))
	var sq float64
	for _, v := range big {
		sq += float64(v) * float64(v)
	}
	if v := sq / float64(n); math.Abs(v-0.02) > 0.002 {
		t.Errorf("noise variance at t=999: %v, want beta 0.02", v)
	}
}

func TestDDIMTimesteps(t *testing.T) {
	for _, c := range []struct {
		T, K  int
		first []int
		last  int
	}{
		{1000, 100, []int{999, 988, 978}, 0},
		{1000, 50, []int{999, 978, 958}, 0},
		{1000, 1000, []int{999, 998, 997}, 0},
		{1000, 1, []int{999}, 999},
	} {
		ts := DDIMTimesteps(c.T, c.K)
		if len(ts) != c.K || ts[len(ts)-1] != c.last {
			t.Errorf("T %d K %d: %d steps ending at %d", c.T, c.K, len(ts), ts[len(ts)-1])
		}
		for i, w := range c.first {
			if ts[i] != w {
				t.Errorf("T %d K %d: ts[%d] = %d, want %d", c.T, c.K, i, ts[i], w)
			}
		}
	}
}

// TestVLBTerms checks the bound's terms against closed forms: the prior
// term, a step's KL when the predicted noise is the true one (the means
// then agree and only the variances beta_t and beta~_t differ), and the
// decoder's mass of a pixel predicted exactly: N(x_0, beta_0 = 1e-4) puts
// about 2 (1/255) / (0.01 sqrt(2 pi)) = 0.31 in a bin of width 2/255, and
// Phi(0.392) = 0.65 in the end bin of x_0 = 1, which reaches to infinity.
func TestVLBTerms(t *testing.T) {
	s, _ := NewSchedule(Linear, 1000, 1e-4, 0.02)
	a := s.ABar[999]
	want := 0.5 * (a*0.25 + (1 - a) - 1 - math.Log(1-a)) // one pixel at 0.5
	if got := s.PriorKL([]float32{0.5}); math.Abs(got-want) > 1e-12 {
		t.Errorf("prior KL %v, want %v", got, want)
	}
	// With eps the true noise, the means agree; only the variances differ.
	x0, eps := []float32{0.3, -0.8}, []float32{1.2, -0.4}
	xt := make([]float32, 2)
	s.QSample(xt, x0, eps, []int{500}, 2)
	_, pv := s.posterior(0.3, float64(xt[0]), 500)
	wantKL := 2 * 0.5 * (math.Log(s.Betas[500]/pv) + pv/s.Betas[500] - 1)
	if got := s.StepKL(x0, xt, eps, 500); math.Abs(got-wantKL) > 1e-4*wantKL {
		t.Errorf("step KL with the true noise %v, want the variance term alone %v", got, wantKL)
	}
	x1 := make([]float32, 1)
	s.QSample(x1, []float32{0.2}, []float32{0.5}, []int{0}, 1)
	// With the true noise the decoder's mean is x_0 itself: a bin holds
	// erf(half-width / (sd sqrt 2)) of the mass, an end bin half of it
	// more. The variance is the posterior's of the next step: 5.45e-5.
	if v := s.DecoderVariance(); math.Abs(v-5.453e-5) > 0.01e-5 {
		t.Errorf("decoder variance %v, want 5.453e-5", v)
	}
	inner := math.Erf((1.0 / 255) / math.Sqrt(2*s.DecoderVariance()))
	nll := s.DecoderNLL([]float32{0.2}, x1, []float32{0.5})
	if p := math.Exp(-nll); math.Abs(p-inner) > 1e-4 {
		t.Errorf("decoder mass %v, want %v", p, inner)
	}
	s.QSample(x1, []float32{1}, []float32{0.5}, []int{0}, 1)
	if p := math.Exp(-s.DecoderNLL([]float32{1}, x1, []float32{0.5})); math.Abs(p-(0.5+inner/2)) > 1e-4 {
		t.Errorf("end-bin mass %v, want %v", p, 0.5+inner/2)
	}
}
