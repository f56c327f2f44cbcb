package diffusion

import (
	"math"
	"math/rand/v2"
)

// SamplerAncestral is the ancestral sampler's name: Ho et al. 2020, every
// timestep.
const SamplerAncestral = "ddpm"

func init() {
	register(SamplerAncestral, samplerSpec{allSteps: true, build: func(_ Choice, s *Schedule) Sampler { return Ancestral{s} }})
}

// Ancestral is the DDPM paper's Algorithm 2 with sigma_t^2 = beta_t, in
// place: x <- (x - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sigma_t z,
// with no noise at t = 0. z is drawn from rng.
type Ancestral struct{ Sched *Schedule }

// Name implements Sampler.
func (Ancestral) Name() string { return SamplerAncestral }

// Timesteps implements Sampler: the chain visits every timestep, whatever
// steps says (Choice.Resolve refuses fewer).
func (a Ancestral) Timesteps(int) []int {
	ts := make([]int, a.Sched.T())
	for i := range ts {
		ts[i] = len(ts) - 1 - i
	}
	return ts
}

// Step implements Sampler; prev is always t-1.
func (a Ancestral) Step(x, eps []float32, t, _ int, _ Denoiser, rng *rand.Rand) error {
	s := a.Sched
	c := float32(s.Betas[t] / math.Sqrt(1-s.ABar[t]))
	inv := float32(1 / math.Sqrt(s.Alphas[t]))
	sigma := float32(math.Sqrt(s.Betas[t]))
	for i := range x {
		x[i] = (x[i] - c*eps[i]) * inv
		if t > 0 {
			x[i] += sigma * float32(rng.NormFloat64())
		}
	}
	return nil
}
