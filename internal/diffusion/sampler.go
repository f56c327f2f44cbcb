package diffusion

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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

// samplers are the samplers by name: each sampler's file adds its own in
// an init function, so a new sampler is one file.
var samplers = map[string]samplerSpec{}

// samplerSpec is what Choice needs to know of a sampler.
type samplerSpec struct {
	build    func(c Choice, s *Schedule) Sampler
	takesEta bool // DDIM's noise applies
	allSteps bool // it visits every timestep, so steps must be T
}

func register(name string, spec samplerSpec) { samplers[name] = spec }

// samplerNames lists the samplers, for errors.
func samplerNames() string {
	names := slices.Sorted(maps.Keys(samplers))
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Choice is a request for a reverse process: a sampler name ("" picks one by
// the step count), the number of steps (0: all T) and DDIM's eta.
type Choice struct {
	Sampler string
	Steps   int
	Eta     float64
	// Clip bounds the clean sample that each step predicts to [-Clip,
	// Clip], as diffusers' clip_sample_range does: 1 for pixels scaled to
	// [-1, 1]. 0 clips nothing, for data of no fixed range such as an
	// autoencoder's latents scaled to unit variance, where a bound of 1
	// would flatten every value beyond one standard deviation.
	Clip float64
}

// Resolve checks c against a schedule of T steps and fills in what it
// leaves open. An empty name picks by the step count, as lucidrains' and
// the seed's rule does, with the solver measured best below T: all T steps
// run the ancestral chain; fewer run DPM-Solver++(2M), which beat DDIM at
// 10, 20 and 50 steps on the same network evaluations (docs/results.md),
// unless eta asks for DDIM's noise.
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
	if c.Sampler == "" {
		switch {
		case c.Steps == T:
			c.Sampler = SamplerAncestral
		case c.Eta > 0:
			c.Sampler = SamplerDDIM
		default:
			c.Sampler = SamplerDPM2M
		}
	}
	spec, ok := samplers[c.Sampler]
	switch {
	case !ok:
		return c, fmt.Errorf("sampler %q is not %s", c.Sampler, samplerNames())
	case c.Eta > 0 && !spec.takesEta && c.Steps != T:
		return c, fmt.Errorf("eta %g is DDIM's noise; sampler %s takes none", c.Eta, c.Sampler)
	case spec.allSteps && c.Steps != T:
		return c, fmt.Errorf("sampler %s visits all %d timesteps; for %d steps use another", c.Sampler, T, c.Steps)
	}
	return c, nil
}

// NewSampler builds the sampler a resolved choice names, over s.
func NewSampler(c Choice, s *Schedule) (Sampler, error) {
	spec, ok := samplers[c.Sampler]
	if !ok {
		return nil, fmt.Errorf("sampler %q is not %s", c.Sampler, samplerNames())
	}
	return spec.build(c, s), nil
}

// predictX0 writes the clean image that eps implies for x at abar a,
// (x - sqrt(1-a) eps)/sqrt(a), clipped to [-clip, clip] as DDIM clips it
// (clip 0: not clipped).
func predictX0(dst, x, eps []float32, a, clip float64) {
	sa, sb := math.Sqrt(a), math.Sqrt(1-a)
	for i := range x {
		dst[i] = float32(clipTo((float64(x[i])-sb*float64(eps[i]))/sa, clip))
	}
}

// clipTo is v clipped to [-c, c], or v itself when c is 0.
func clipTo(v, c float64) float64 {
	if c <= 0 {
		return v
	}
	return math.Max(-c, math.Min(c, v))
}
