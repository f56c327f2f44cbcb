// Package flow holds the normalizing flows, RealNVP (its MLP and its
// multi-scale architecture) and Glow: exact maximum likelihood on
// dequantized, logit-transformed images, bits/dim on the test set, and
// samples at a temperature. The networks plug into one adapter (Flow)
// through the small flowNet interface.
package flow

import (
	"math"
	"math/rand/v2"
)

// logitTransform is the flows' preprocessing (Dinh et al. 2017): pixels x =
// k/255 are dequantized to (255 x + u)/256 with u ~ U(0, 1), squeezed into
// [alpha, 1-alpha] and mapped through the logit. logDet is log|dy/dx| summed
// over the pixels, including the 1/256 of the discretization, so that
// -log p(y) - logDet is the negative log-likelihood of the 256-level image
// (in nats) and dividing by D ln 2 gives bits/dim.
type logitTransform struct{ alpha float64 }

// forward writes y for the rows of x (pixels each) and returns each row's
// log|det|. Uniform noise comes from rng.
func (l logitTransform) forward(y, x []float32, pixels int, rng *rand.Rand, logDet []float64) {
	a := l.alpha
	base := float64(pixels) * (math.Log(1-2*a) - math.Log(256))
	for r := range len(x) / pixels {
		sum := base
		for j := r * pixels; j < (r+1)*pixels; j++ {
			v := (float64(x[j])*255 + rng.Float64()) / 256
			p := a + (1-2*a)*v
			y[j] = float32(math.Log(p) - math.Log1p(-p))
			sum -= math.Log(p) + math.Log1p(-p)
		}
		logDet[r] = sum
	}
}

// inverse maps y back to pixels in [0, 1] and returns how many values of y
// were not numbers (a flow's inverse can overflow far from the data); those
// pixels come out black.
func (l logitTransform) inverse(x, y []float32) (nonFinite int) {
	for i, v := range y {
		if math.IsNaN(float64(v)) {
			x[i] = 0
			nonFinite++
			continue
		}
		s := 1 / (1 + math.Exp(-float64(v)))
		x[i] = float32(min(1, max(0, (s-l.alpha)/(1-2*l.alpha))))
	}
	return nonFinite
}

// bitsPerDim converts a mean negative log-likelihood in nats per image.
func bitsPerDim(nllNats float64, pixels int) float64 {
	return nllNats / (float64(pixels) * math.Ln2)
}
