package diffusion

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestChoiceResolve(t *testing.T) {
	cases := []struct {
		in      Choice
		want    Choice
		wantErr string
	}{
		{Choice{}, Choice{Sampler: SamplerAncestral, Steps: 50}, ""},
		{Choice{Steps: 50}, Choice{Sampler: SamplerAncestral, Steps: 50}, ""},
		{Choice{Steps: 10, Eta: 0.5}, Choice{Sampler: SamplerDDIM, Steps: 10, Eta: 0.5}, ""},
		{Choice{Steps: 10}, Choice{Sampler: SamplerDPM2M, Steps: 10}, ""},
		{Choice{Sampler: SamplerDDIM}, Choice{Sampler: SamplerDDIM, Steps: 50}, ""},
		{Choice{Sampler: SamplerAncestral, Steps: 10}, Choice{}, "sampler ddpm visits all 50 timesteps"},
		{Choice{Steps: 51}, Choice{}, "choose 1 to T = 50"},
		{Choice{Steps: -1}, Choice{}, "choose 1 to T = 50"},
		{Choice{Eta: -0.1}, Choice{}, "eta must not be negative"},
		{Choice{Sampler: "plms"}, Choice{}, `sampler "plms" is not ddim, ddpm, dpm++2m, euler or heun`},
		{Choice{Sampler: SamplerHeun, Steps: 10}, Choice{Sampler: SamplerHeun, Steps: 10}, ""},
		{Choice{Sampler: SamplerDPM2M, Steps: 10, Eta: 1}, Choice{}, "eta 1 is DDIM's noise"},
	}
	for _, c := range cases {
		got, err := c.in.Resolve(50)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%+v: error %v, want one containing %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// TestSamplersVisit checks the timesteps and names behind the interface:
// the ancestral chain visits every step whatever it is asked, DDIM the
// strided subset.
func TestSamplersVisit(t *testing.T) {
	s, err := NewSchedule(Linear, 10, 1e-4, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		choice Choice
		steps  int
		want   []int
	}{
		{Choice{Sampler: SamplerAncestral}, 3, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{Choice{Sampler: SamplerDDIM}, 4, []int{9, 6, 3, 0}},
	}
	for _, c := range cases {
		smp, err := NewSampler(c.choice, s)
		if err != nil {
			t.Fatal(err)
		}
		if smp.Name() != c.choice.Sampler {
			t.Errorf("name %q, want %q", smp.Name(), c.choice.Sampler)
		}
		if got := smp.Timesteps(c.steps); !slices.Equal(got, c.want) {
			t.Errorf("%s timesteps(%d) = %v, want %v", c.choice.Sampler, c.steps, got, c.want)
		}
	}
	if _, err := NewSampler(Choice{Sampler: "plms"}, s); err == nil {
		t.Error("an unknown sampler was built")
	}
}

// gaussianDenoiser is the exact noise prediction for data whose pixels are
// independent N(mu, s^2): E[eps | x_t] = sqrt(1-a)(x - sqrt(a) mu)/(a s^2 + 1 - a).
func gaussianDenoiser(sched *Schedule, mu, s float64, calls *int) Denoiser {
	var out []float32
	return func(x []float32, t int) ([]float32, error) {
		*calls++
		if out == nil {
			out = make([]float32, len(x))
		}
		a := sched.ABar[t]
		for i, v := range x {
			out[i] = float32(math.Sqrt(1-a) * (float64(v) - math.Sqrt(a)*mu) / (a*s*s + 1 - a))
		}
		return out, nil
	}
}

// runSampler runs a whole reverse process of smp from x with denoise.
func runSampler(t *testing.T, smp Sampler, steps int, x []float32, denoise Denoiser) {
	t.Helper()
	ts := smp.Timesteps(steps)
	for i, tt := range ts {
		prev := -1
		if i+1 < len(ts) {
			prev = ts[i+1]
		}
		eps, err := denoise(x, tt)
		if err != nil {
			t.Fatal(err)
		}
		if err := smp.Step(x, eps, tt, prev, denoise, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSamplersSolveTheODE runs each deterministic sampler with the exact
// denoiser of Gaussian data, whose probability-flow ODE maps x_T to
// mu + s (x_T - sqrt(abar) mu)/sqrt(abar s^2 + 1 - abar) in closed form: the
// error must be small at 40 steps and shrink from 10 steps to 40 at the
// method's order (4x the steps: 4x less error for first order, 16x for
// second, less some slack for the rounded timesteps), and Heun must cost two
// evaluations a step but the last.
func TestSamplersSolveTheODE(t *testing.T) {
	sched, err := NewSchedule(Linear, 1000, 1e-4, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	const mu, s = 0.1, 0.25
	xT := []float32{-2, -1, -0.3, 0, 0.5, 1.2, 2}
	aT := sched.ABar[999]
	maxErr := func(name string, steps int) (float64, int) {
		smp, err := NewSampler(Choice{Sampler: name}, sched)
		if err != nil {
			t.Fatal(err)
		}
		x := append([]float32(nil), xT...)
		calls := 0
		runSampler(t, smp, steps, x, gaussianDenoiser(sched, mu, s, &calls))
		worst := 0.0
		for i, v := range xT {
			want := mu + s*(float64(v)-math.Sqrt(aT)*mu)/math.Sqrt(aT*s*s+1-aT)
			worst = math.Max(worst, math.Abs(float64(x[i])-want))
		}
		return worst, calls
	}
	cases := []struct {
		name    string
		tol40   float64 // largest error allowed at 40 steps
		minGain float64 // least error(10 steps)/error(40 steps)
		evals10 int     // network evaluations in 10 steps
	}{
		{SamplerDDIM, 0.08, 2.5, 10},
		{SamplerEuler, 0.06, 2.5, 10},
		{SamplerDPM2M, 0.003, 6, 10},
		{SamplerHeun, 0.01, 6, 19},
	}
	for _, c := range cases {
		e10, calls := maxErr(c.name, 10)
		e40, _ := maxErr(c.name, 40)
		t.Logf("%s: error %.2e at 10 steps (%d evaluations), %.2e at 40", c.name, e10, calls, e40)
		if e40 > c.tol40 || e10/e40 < c.minGain || calls != c.evals10 {
			t.Errorf("%s: error %.3g at 40 steps (allowed %g), %.3g at 10 (want %g times more), %d evaluations in 10 steps (want %d)",
				c.name, e40, c.tol40, e10, c.minGain, calls, c.evals10)
		}
	}
}

// TestKarrasTimesteps checks the spacing's shape: from T-1 down to 0 without
// repeats, denser at low noise than DDIM's even spacing.
func TestKarrasTimesteps(t *testing.T) {
	sched, err := NewSchedule(Linear, 1000, 1e-4, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	for _, steps := range []int{1, 2, 10, 50, 1000} {
		ts := KarrasTimesteps(sched, steps)
		if ts[0] != 999 || (steps > 1 && ts[len(ts)-1] != 0) || len(ts) > steps {
			t.Errorf("%d steps: %v", steps, ts)
		}
		for i := 1; i < len(ts); i++ {
			if ts[i] >= ts[i-1] {
				t.Fatalf("%d steps: not decreasing at %d: %v", steps, i, ts)
			}
		}
	}
	if ts := KarrasTimesteps(sched, 10); len(ts) != 10 || ts[8] >= DDIMTimesteps(1000, 10)[8] {
		t.Errorf("10 Karras steps %v: want 10, the last but one below DDIM's", ts)
	}
}

// TestSpacingsTakeTheStepsAsked checks that the log-SNR and Karras spacings
// give exactly the steps asked for, strictly decreasing within [0, T), on
// both schedules: the cosine one sends log-SNR down so fast near T that two
// spacing points fall on one timestep there.
func TestSpacingsTakeTheStepsAsked(t *testing.T) {
	for _, kind := range []string{Linear, Cosine} {
		s, err := NewSchedule(kind, 1000, 1e-4, 0.02)
		if err != nil {
			t.Fatal(err)
		}
		spacings := map[string]func(int) []int{
			"log-SNR": func(k int) []int { return LogSNRTimesteps(s, k) },
			"Karras":  func(k int) []int { return KarrasTimesteps(s, k) },
		}
		for name, spacing := range spacings {
			for _, k := range []int{2, 5, 10, 20, 50, 200, 1000} {
				ts := spacing(k)
				if len(ts) != k {
					t.Errorf("%s %s, %d steps: %d timesteps %v", kind, name, k, len(ts), ts)
					continue
				}
				for i, v := range ts {
					if v < 0 || v >= 1000 || (i > 0 && v >= ts[i-1]) {
						t.Errorf("%s %s, %d steps: timesteps %v not strictly decreasing in [0, 1000)", kind, name, k, ts)
						break
					}
				}
			}
		}
	}
}

// TestSamplersClipOnlyWhenAsked runs each deterministic sampler with the
// exact denoiser of data that is one point beyond [-1, 1] (as scaled
// latents are): with Clip 0 every sampler must land on the point itself,
// with Clip 1 on the point clipped to [-1, 1].
func TestSamplersClipOnlyWhenAsked(t *testing.T) {
	sched, err := NewSchedule(Cosine, 1000, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	point := []float64{3, -2.5, 0.4}
	denoise := func(x []float32, tt int) ([]float32, error) {
		a := sched.ABar[tt]
		eps := make([]float32, len(x))
		for i, v := range x {
			eps[i] = float32((float64(v) - math.Sqrt(a)*point[i]) / math.Sqrt(1-a))
		}
		return eps, nil
	}
	for _, name := range []string{SamplerDDIM, SamplerEuler, SamplerDPM2M, SamplerHeun} {
		for _, clip := range []float64{0, 1} {
			smp, err := NewSampler(Choice{Sampler: name, Clip: clip}, sched)
			if err != nil {
				t.Fatal(err)
			}
			x := []float32{0.3, -1.2, 0.8}
			runSampler(t, smp, 10, x, denoise)
			for i, v := range x {
				want := point[i]
				if clip > 0 {
					want = math.Max(-clip, math.Min(clip, want))
				}
				if math.Abs(float64(v)-want) > 1e-3 {
					t.Errorf("%s, clip %g: x0[%d] = %v, want %v", name, clip, i, v, want)
				}
			}
		}
	}
}
