package diffusion

import (
	"math"
	"math/rand/v2"
)

// SamplerDDIM is DDIM's name: Song et al. 2021, any number of steps.
const SamplerDDIM = "ddim"

func init() {
	register(SamplerDDIM, samplerSpec{takesEta: true, build: func(c Choice, s *Schedule) Sampler { return DDIM{Sched: s, Eta: c.Eta, Clip: c.Clip} }})
}

// DDIM moves x from timestep t to timestep prev (-1: the clean image), in
// place (Song et al. 2021, eq. 12): the predicted x0, clipped to [-Clip, Clip],
// re-noised to abar_prev along the noise that the clipped x0 implies,
// (x - sqrt(abar_t) x0) / sqrt(1 - abar_t), plus fresh noise of scale
// sigma = eta sqrt((1-abar_prev)/(1-abar_t)) sqrt(1 - abar_t/abar_prev).
//
// Re-deriving the noise is what diffusers' DDIMScheduler and guided-diffusion
// do. ddpm_ref.py keeps the network's eps for the direction instead; the two
// agree whenever nothing is clipped, but a guided eps is large, clipping then
// discards most of x0 while the direction keeps all of eps, and guided
// samples blew up into saturated blobs (classifier-free guidance at w = 3 in
// 50 steps: 0% of samples of the asked class before, 95% after).
type DDIM struct {
	Sched *Schedule
	Eta   float64 // 0: deterministic; 1: the DDPM posterior's variance
	Clip  float64 // x0's bound: 1 for pixels, 0 for none (see Choice.Clip)
}

// Name implements Sampler.
func (DDIM) Name() string { return SamplerDDIM }

// Timesteps implements Sampler.
func (d DDIM) Timesteps(steps int) []int { return DDIMTimesteps(d.Sched.T(), steps) }

// Step implements Sampler.
func (d DDIM) Step(x, eps []float32, t, prev int, _ Denoiser, rng *rand.Rand) error {
	s := d.Sched
	at, ap := s.ABar[t], s.ABarAt(prev)
	sigma := d.Eta * math.Sqrt((1-ap)/(1-at)*(1-at/ap))
	sa, sb := math.Sqrt(at), math.Sqrt(1-at)
	dir := float32(math.Sqrt(math.Max(0, 1-ap-sigma*sigma)))
	sap := float32(math.Sqrt(ap))
	for i := range x {
		x0 := (float64(x[i]) - sb*float64(eps[i])) / sa
		x0 = clipTo(x0, d.Clip)
		e := (float64(x[i]) - sa*x0) / sb // the noise that the clipped x0 implies
		x[i] = sap*float32(x0) + float32(float64(dir)*e)
		if sigma > 0 {
			x[i] += float32(sigma * rng.NormFloat64())
		}
	}
	return nil
}

// DDIMTimesteps returns the K timesteps a K-step DDIM sampler visits, from
// T-1 down to 0 evenly spaced and truncated to integers, as the reference's
// torch.linspace(T-1, 0, K).long().
func DDIMTimesteps(T, K int) []int {
	K = max(1, min(K, T))
	ts := make([]int, K)
	ts[0] = T - 1
	for i := 1; i < K; i++ {
		ts[i] = int(float64(T-1) * float64(K-1-i) / float64(K-1))
	}
	return ts
}
