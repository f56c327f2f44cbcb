// Package diffusion holds the arithmetic of denoising diffusion models that
// lives outside the network, as diffusers' schedulers: noise schedules, the
// forward process q(x_t | x_0), the terms of the variational bound, and the
// reverse processes behind the Sampler interface, one file each: the DDPM
// ancestral sampler (Ho et al. 2020, ancestral.go) and DDIM (Song et al.
// 2021, ddim.go). It works on flat float32 images and knows nothing of
// networks or guidance.
package diffusion

import (
	"fmt"
	"math"
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

// ScheduleConfig names a schedule as the ddpm's and the noisy classifier's
// configuration sections spell it.
type ScheduleConfig struct {
	Timesteps int     `mapstructure:"timesteps"`
	Schedule  string  `mapstructure:"schedule"`
	BetaStart float64 `mapstructure:"beta_start"`
	BetaEnd   float64 `mapstructure:"beta_end"`
}

// Build makes the schedule c names.
func (c ScheduleConfig) Build() (*Schedule, error) {
	return NewSchedule(c.Schedule, c.Timesteps, c.BetaStart, c.BetaEnd)
}
