// Package diffusion holds the arithmetic of denoising diffusion models that
// lives outside the network: noise schedules, the forward process
// q(x_t | x_0), and the reverse-process updates of the DDPM ancestral
// sampler (Ho et al. 2020) and of DDIM (Song et al. 2021). It works on flat
// float32 images and knows nothing of graphs.
package diffusion

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Schedule is a variance schedule beta_1..beta_T, indexed from 0 as the
// reference scripts do (t = 0 is the least noisy step).
type Schedule struct {
	Betas  []float64
	Alphas []float64 // 1 - beta_t
	ABar   []float64 // prod_{s <= t} alpha_s
}

// The schedules by name.
const (
	Linear = "linear"
	Cosine = "cosine"
)

// NewSchedule builds the named schedule over T steps. linear is the DDPM
// paper's betas evenly spaced from betaStart to betaEnd; cosine is Nichol &
// Dhariwal's (2021) abar(t) = f(t)/f(0), f(t) = cos^2(((t/T)+s)/(1+s) pi/2)
// with s = 0.008 and betas clipped at 0.999 (betaStart and betaEnd unused).
func NewSchedule(kind string, T int, betaStart, betaEnd float64) (*Schedule, error) {
	if T < 2 {
		return nil, fmt.Errorf("diffusion: %d timesteps; need at least 2", T)
	}
	betas := make([]float64, T)
	switch kind {
	case Linear:
		if betaStart <= 0 || betaEnd >= 1 || betaStart > betaEnd {
			return nil, fmt.Errorf("diffusion: linear betas need 0 < beta_start <= beta_end < 1, got %g and %g", betaStart, betaEnd)
		}
		for i := range betas {
			betas[i] = betaStart + (betaEnd-betaStart)*float64(i)/float64(T-1)
		}
	case Cosine:
		const s = 0.008
		f := func(t float64) float64 {
			c := math.Cos((t/float64(T) + s) / (1 + s) * math.Pi / 2)
			return c * c
		}
		for i := range betas {
			betas[i] = math.Min(1-f(float64(i+1))/f(float64(i)), 0.999)
		}
	default:
		return nil, fmt.Errorf("diffusion: schedule %q is not %s or %s", kind, Linear, Cosine)
	}
	s := &Schedule{Betas: betas, Alphas: make([]float64, T), ABar: make([]float64, T)}
	prod := 1.0
	for i, b := range betas {
		s.Alphas[i] = 1 - b
		prod *= 1 - b
		s.ABar[i] = prod
	}
	return s, nil
}

// T is the number of timesteps.
func (s *Schedule) T() int { return len(s.Betas) }

// ABarAt is abar_t, with abar_{-1} = 1 (no noise) for the last DDIM step.
func (s *Schedule) ABarAt(t int) float64 {
	if t < 0 {
		return 1
	}
	return s.ABar[t]
}

// QSample writes x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps for each image
// of the batch (pixels floats each) at its own timestep ts[i].
func (s *Schedule) QSample(xt, x0, eps []float32, ts []int, pixels int) {
	for i, t := range ts {
		a, b := float32(math.Sqrt(s.ABar[t])), float32(math.Sqrt(1-s.ABar[t]))
		lo, hi := i*pixels, (i+1)*pixels
		for j := lo; j < hi; j++ {
			xt[j] = a*x0[j] + b*eps[j]
		}
	}
}

// AncestralStep is the DDPM paper's Algorithm 2 with sigma_t^2 = beta_t, in
// place: x <- (x - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sigma_t z,
// with no noise at t = 0. z is drawn from rng.
func (s *Schedule) AncestralStep(x, eps []float32, t int, rng *rand.Rand) {
	c := float32(s.Betas[t] / math.Sqrt(1-s.ABar[t]))
	inv := float32(1 / math.Sqrt(s.Alphas[t]))
	sigma := float32(math.Sqrt(s.Betas[t]))
	for i := range x {
		x[i] = (x[i] - c*eps[i]) * inv
		if t > 0 {
			x[i] += sigma * float32(rng.NormFloat64())
		}
	}
}

// DDIMStep moves x from timestep t to timestep prev (-1: the clean image), in
// place (Song et al. 2021, eq. 12): the predicted x0, clipped to [-1, 1],
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
func (s *Schedule) DDIMStep(x, eps []float32, t, prev int, eta float64, rng *rand.Rand) {
	at, ap := s.ABar[t], s.ABarAt(prev)
	sigma := eta * math.Sqrt((1-ap)/(1-at)*(1-at/ap))
	sa, sb := math.Sqrt(at), math.Sqrt(1-at)
	dir := float32(math.Sqrt(math.Max(0, 1-ap-sigma*sigma)))
	sap := float32(math.Sqrt(ap))
	for i := range x {
		x0 := (float64(x[i]) - sb*float64(eps[i])) / sa
		x0 = math.Max(-1, math.Min(1, x0))
		e := (float64(x[i]) - sa*x0) / sb // the noise that the clipped x0 implies
		x[i] = sap*float32(x0) + float32(float64(dir)*e)
		if sigma > 0 {
			x[i] += float32(sigma * rng.NormFloat64())
		}
	}
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
