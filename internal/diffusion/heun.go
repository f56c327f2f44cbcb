package diffusion

import (
	"math"
	"math/rand/v2"
)

// SamplerHeun is the name of Karras et al.'s Algorithm 1.
const SamplerHeun = "heun"

func init() {
	register(SamplerHeun, samplerSpec{build: func(c Choice, s *Schedule) Sampler { return &Heun{Sched: s, Clip: c.Clip} }})
}

// Heun is Karras et al.'s Algorithm 1 (deterministic, second order): an
// Euler step to sigma_prev, then the network again there, and the step
// redone with the mean of the two slopes; the last step, to sigma = 0, is
// Euler's. It visits KarrasTimesteps and costs two network evaluations per
// step but the last.
type Heun struct {
	Sched *Schedule
	Clip  float64   // the data predictions' bound, as DDIM's (0: none)
	x0    []float32 // the start of the step
	d, d2 []float32 // the data predictions at t and, after Euler's step, at prev
}

// Name implements Sampler.
func (*Heun) Name() string { return SamplerHeun }

// Timesteps implements Sampler.
func (h *Heun) Timesteps(steps int) []int { return KarrasTimesteps(h.Sched, steps) }

// Step implements Sampler.
func (h *Heun) Step(x, eps []float32, t, prev int, denoise Denoiser, rng *rand.Rand) error {
	if prev < 0 {
		return Euler{Sched: h.Sched, Clip: h.Clip}.Step(x, eps, t, prev, denoise, rng)
	}
	if h.d == nil {
		h.x0, h.d, h.d2 = make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	}
	at, ap := h.Sched.ABar[t], h.Sched.ABar[prev]
	st, sp := h.Sched.Sigma(t), h.Sched.Sigma(prev)
	zt, zp := 1/math.Sqrt(at), 1/math.Sqrt(ap) // z = x * zt at t, x * zp at prev
	copy(h.x0, x)
	predictX0(h.d, x, eps, at, h.Clip)
	for i := range x { // Euler's step, where the network looks again
		z := float64(x[i]) * zt
		x[i] = float32((z + (sp-st)*(z-float64(h.d[i]))/st) / zp)
	}
	eps2, err := denoise(x, prev)
	if err != nil {
		return err
	}
	predictX0(h.d2, x, eps2, ap, h.Clip)
	for i := range x {
		z := float64(h.x0[i]) * zt
		slope := (z-float64(h.d[i]))/st + (float64(x[i])*zp-float64(h.d2[i]))/sp
		x[i] = float32((z + (sp-st)*slope/2) / zp)
	}
	return nil
}
