package diffusion

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Sampler is one reverse process over a schedule, in the sense of diffusers'
// schedulers: it knows which timesteps a run of K steps visits and how to
// take x from one of them to the next given the network's noise prediction.
// It knows nothing of networks or guidance (the Denoiser hides both), so a
// new sampler is one file and touches neither. A sampler may keep state
// between the steps of one run (a multistep method's history): build one
// per run.
type Sampler interface {
	// Name is the sampler's name as --sampler and ddpm.sampler spell it.
	Name() string
	// Timesteps returns the timesteps a run of steps steps visits, from
	// the noisiest down to 0.
	Timesteps(steps int) []int
	// Step moves x in place from timestep t to prev (-1: the clean image),
	// given eps = denoise(x, t); a higher-order method calls denoise for
	// the further predictions it needs. Fresh noise comes from rng.
	Step(x, eps []float32, t, prev int, denoise Denoiser, rng *rand.Rand) error
}

// Denoiser predicts the noise in x at timestep t: the network, guided where
// guidance applies. The returned slice is valid until the next call.
type Denoiser func(x []float32, t int) ([]float32, error)

// The samplers by name.
const (
	SamplerAncestral = "ddpm"    // Ho et al. 2020, every timestep
	SamplerDDIM      = "ddim"    // Song et al. 2021, any number of steps
	SamplerDPM2M     = "dpm++2m" // DPM-Solver++(2M), Lu et al. 2022
	SamplerEuler     = "euler"   // Karras et al. 2022, Euler on their sigma spacing
	SamplerHeun      = "heun"    // Karras et al. 2022, Algorithm 1
)

// samplerNames lists the samplers, for errors.
const samplerNames = "ddpm, ddim, dpm++2m, euler or heun"

// Choice is a request for a reverse process: a sampler name ("" picks one by
// the step count), the number of steps (0: all T) and DDIM's eta.
type Choice struct {
	Sampler string
	Steps   int
	Eta     float64
}

// Resolve checks c against a schedule of T steps and fills in what it
// leaves open. The rule for an empty name is lucidrains' and the seed's:
// all T steps run the ancestral chain, fewer run DDIM.
func (c Choice) Resolve(T int) (Choice, error) {
	if c.Steps == 0 {
		c.Steps = T
	}
	switch {
	case c.Steps < 1 || c.Steps > T:
		return c, fmt.Errorf("sample_steps %d: choose 1 to T = %d", c.Steps, T)
	case c.Eta < 0:
		return c, fmt.Errorf("eta must not be negative, got %g", c.Eta)
	case c.Eta > 0 && c.Sampler != "" && c.Sampler != SamplerDDIM:
		return c, fmt.Errorf("eta %g is DDIM's noise; sampler %s takes none", c.Eta, c.Sampler)
	}
	switch c.Sampler {
	case "":
		c.Sampler = SamplerDDIM
		if c.Steps == T {
			c.Sampler = SamplerAncestral
		}
	case SamplerAncestral:
		if c.Steps != T {
			return c, fmt.Errorf("sampler ddpm visits all %d timesteps; for %d steps use ddim", T, c.Steps)
		}
	case SamplerDDIM, SamplerDPM2M, SamplerEuler, SamplerHeun:
	default:
		return c, fmt.Errorf("sampler %q is not %s", c.Sampler, samplerNames)
	}
	return c, nil
}

// NewSampler builds the sampler a resolved choice names, over s.
func NewSampler(c Choice, s *Schedule) (Sampler, error) {
	switch c.Sampler {
	case SamplerAncestral:
		return Ancestral{s}, nil
	case SamplerDDIM:
		return DDIM{Sched: s, Eta: c.Eta}, nil
	case SamplerDPM2M:
		return &DPMSolver2M{Sched: s}, nil
	case SamplerEuler:
		return Euler{Sched: s}, nil
	case SamplerHeun:
		return &Heun{Sched: s}, nil
	}
	return nil, fmt.Errorf("sampler %q is not %s", c.Sampler, samplerNames)
}

// predictX0 writes the clean image that eps implies for x at abar a,
// clipped to the data's [-1, 1] as DDIM clips it: (x - sqrt(1-a) eps)/sqrt(a).
func predictX0(dst, x, eps []float32, a float64) {
	sa, sb := math.Sqrt(a), math.Sqrt(1-a)
	for i := range x {
		v := (float64(x[i]) - sb*float64(eps[i])) / sa
		dst[i] = float32(math.Max(-1, math.Min(1, v)))
	}
}
