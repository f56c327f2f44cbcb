package diffusion

import (
	"fmt"
	"math/rand/v2"
)

// Sampler is one reverse process over a schedule, in the sense of diffusers'
// schedulers: it knows which timesteps a run of K steps visits and how to
// take x from one of them to the next given the network's noise prediction.
// It knows nothing of networks or guidance, so a new sampler is one file and
// touches neither.
type Sampler interface {
	// Name is the sampler's name as --sampler and ddpm.sampler spell it.
	Name() string
	// Timesteps returns the timesteps a run of steps steps visits, from
	// the noisiest down to 0.
	Timesteps(steps int) []int
	// Step moves x in place from timestep t to prev (-1: the clean image),
	// given eps, the predicted noise of x at t; any fresh noise comes from
	// rng.
	Step(x, eps []float32, t, prev int, rng *rand.Rand)
}

// The samplers by name.
const (
	SamplerAncestral = "ddpm" // Ho et al. 2020, every timestep
	SamplerDDIM      = "ddim" // Song et al. 2021, any number of steps
)

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
	case SamplerDDIM:
	default:
		return c, fmt.Errorf("sampler %q is not %s or %s", c.Sampler, SamplerAncestral, SamplerDDIM)
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
	}
	return nil, fmt.Errorf("sampler %q is not %s or %s", c.Sampler, SamplerAncestral, SamplerDDIM)
}
