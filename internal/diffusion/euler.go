package diffusion

import (
	"math"
	"math/rand/v2"
)

// SamplerEuler is the name of Karras et al.'s Euler method on their
// spacing.
const SamplerEuler = "euler"

func init() {
	register(SamplerEuler, samplerSpec{build: func(c Choice, s *Schedule) Sampler { return Euler{Sched: s, Clip: c.Clip} }})
}

// Euler is the Euler method of Karras et al. 2022 on the probability flow
// ODE in their variables, z = x/sqrt(abar) and sigma = sqrt((1-abar)/abar):
// z_prev = z + (sigma_prev - sigma_t) (z - D)/sigma_t, D the clean image the
// noise implies, clipped as DDIM clips it. In these variables that is DDIM's
// deterministic update exactly (their section 3), so Euler takes DDIM's
// step; what it adds is their timestep spacing (KarrasTimesteps), which
// spends the steps where the noise is small.
type Euler struct {
	Sched *Schedule
	Clip  float64 // D's bound, as DDIM's (0: none)
}

// Name implements Sampler.
func (Euler) Name() string { return SamplerEuler }

// Timesteps implements Sampler.
func (e Euler) Timesteps(steps int) []int { return KarrasTimesteps(e.Sched, steps) }

// Step implements Sampler.
func (e Euler) Step(x, eps []float32, t, prev int, denoise Denoiser, rng *rand.Rand) error {
	return DDIM{Sched: e.Sched, Clip: e.Clip}.Step(x, eps, t, prev, denoise, rng)
}

// karrasRho is rho of Karras et al.'s spacing (their eq. 5): 7.
const karrasRho = 7

// KarrasTimesteps returns the timesteps nearest (in log sigma) to Karras et
// al.'s spacing of steps noise levels, sigma_i = (sigma_max^(1/rho) + i/(N-1)
// (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho from the schedule's largest
// sigma (at spacedTop) to its smallest, each once. The network was trained
// on integer timesteps only, so the levels are rounded to them
// (k-diffusion's quantized discrete schedule; see nearestSpaced where the
// spacing is finer than the schedule's, near sigma_min).
func KarrasTimesteps(s *Schedule, steps int) []int {
	top := spacedTop(s, steps)
	logSigma := make([]float64, top+1) // increasing in t
	for t := range logSigma {
		a := s.ABar[t]
		logSigma[t] = 0.5 * math.Log((1-a)/a)
	}
	hi, lo := math.Exp(logSigma[top]/karrasRho), math.Exp(logSigma[0]/karrasRho)
	return nearestSpaced(logSigma, steps, func(u float64) float64 {
		return karrasRho * math.Log(hi+u*(lo-hi))
	})
}
