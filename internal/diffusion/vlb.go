package diffusion

import "math"

// The terms of the DDPM variational bound (Ho et al. 2020, eq. 5), in nats
// summed over the pixels of one image, for images in [-1, 1] with 256
// levels. Timesteps are 0-indexed: t = 0 is the paper's t = 1.

// PriorKL is L_T = KL(q(x_T | x_0) || N(0, I)).
func (s *Schedule) PriorKL(x0 []float32) float64 {
	a := s.ABar[s.T()-1]
	variance := 1 - a
	var kl float64
	for _, v := range x0 {
		mean := math.Sqrt(a) * float64(v)
		kl += 0.5 * (mean*mean + variance - 1 - math.Log(variance))
	}
	return kl
}

// posterior returns the mean and variance of q(x_{t-1} | x_t, x_0) at one
// pixel, for t >= 1.
func (s *Schedule) posterior(x0, xt float64, t int) (mean, variance float64) {
	ab, abPrev := s.ABar[t], s.ABar[t-1]
	beta := s.Betas[t]
	mean = math.Sqrt(abPrev)*beta/(1-ab)*x0 + math.Sqrt(s.Alphas[t])*(1-abPrev)/(1-ab)*xt
	variance = (1 - abPrev) / (1 - ab) * beta
	return mean, variance
}

// modelMean is the mean of p(x_{t-1} | x_t) from the predicted noise.
func (s *Schedule) modelMean(xt, eps float64, t int) float64 {
	return (xt - s.Betas[t]/math.Sqrt(1-s.ABar[t])*eps) / math.Sqrt(s.Alphas[t])
}

// DecoderVariance is the variance of the decoder p(x_0 | x_1): the
// posterior variance of the next step, beta_1 (1 - abar_0)/(1 - abar_1) in
// this package's 0-indexed timesteps (posterior_variance[1] in Ho et al.'s
// code), which their code and guided-diffusion's take for the first step of
// the "fixed large" variances "to get a better decoder log likelihood".
// beta_0, what the step's own variance would be, is the other candidate;
// following the published code keeps the bound comparable with the
// published bits/dim. With the linear schedule it is 5.45e-5 against
// beta_0 = 1e-4. Sampling is unaffected: the last ancestral step adds no
// noise.
func (s *Schedule) DecoderVariance() float64 {
	return s.Betas[1] * (1 - s.ABar[0]) / (1 - s.ABar[1])
}

// StepKL is L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) for
// t >= 1, with the model's variance sigma_t^2 = beta_t (the ancestral
// sampler's) and its mean from eps, the network's noise prediction.
func (s *Schedule) StepKL(x0, xt, eps []float32, t int) float64 {
	sigma2 := s.Betas[t]
	var kl float64
	for i := range x0 {
		pm, pv := s.posterior(float64(x0[i]), float64(xt[i]), t)
		d := pm - s.modelMean(float64(xt[i]), float64(eps[i]), t)
		kl += 0.5 * (math.Log(sigma2/pv) + (pv+d*d)/sigma2 - 1)
	}
	return kl
}

// DecoderNLL is L_0 = -log p(x_0 | x_1): the mass of each pixel's bin of
// width 2/255 under N(mean, DecoderVariance) (the end bins reach to
// infinity), with the mean from the network's noise prediction at t = 0.
func (s *Schedule) DecoderNLL(x0, x1, eps []float32) float64 {
	sd := math.Sqrt(s.DecoderVariance())
	var nll float64
	for i, v := range x0 {
		x := float64(v)
		mean := s.modelMean(float64(x1[i]), float64(eps[i]), 0)
		cdf := func(y float64) float64 { return 0.5 * math.Erfc(-(y-mean)/(sd*math.Sqrt2)) }
		lo, hi := 0.0, 1.0
		if x > -1+1e-6 {
			lo = cdf(x - 1.0/255)
		}
		if x < 1-1e-6 {
			hi = cdf(x + 1.0/255)
		}
		nll -= math.Log(math.Max(hi-lo, 1e-12))
	}
	return nll
}
