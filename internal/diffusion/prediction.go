package diffusion

import (
	"fmt"
	"math"
)

// Prediction is what a denoising network is trained to output from x_t and
// t. All three carry the same information; they differ in how the loss
// weighs the timesteps and in how errors grow when converted to the others.
type Prediction string

// The predictions by name, as diffusers' prediction_type spells them.
const (
	// PredictEps is the noise eps (Ho et al. 2020), the seed's choice.
	PredictEps Prediction = "eps"
	// PredictV is v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0 (Salimans & Ho
	// 2022), whose scale stays near 1 at every t.
	PredictV Prediction = "v"
	// PredictX0 is the clean image x_0.
	PredictX0 Prediction = "x0"
)

// ParsePrediction checks a prediction's name.
func ParsePrediction(s string) (Prediction, error) {
	switch p := Prediction(s); p {
	case PredictEps, PredictV, PredictX0:
		return p, nil
	}
	return "", fmt.Errorf("prediction %q is not %s, %s or %s", s, PredictEps, PredictV, PredictX0)
}

// Target writes the training target of prediction p for each image of the
// batch (pixels floats each) at its own timestep ts[i], given its clean image
// x0 and the noise eps that made x_t.
func (s *Schedule) Target(p Prediction, dst, x0, eps []float32, ts []int, pixels int) {
	for i, t := range ts {
		a, b := float32(math.Sqrt(s.ABar[t])), float32(math.Sqrt(1-s.ABar[t]))
		lo, hi := i*pixels, (i+1)*pixels
		switch p {
		case PredictV:
			for j := lo; j < hi; j++ {
				dst[j] = a*eps[j] - b*x0[j]
			}
		case PredictX0:
			copy(dst[lo:hi], x0[lo:hi])
		default:
			copy(dst[lo:hi], eps[lo:hi])
		}
	}
}

// EpsFrom converts a network's output out of prediction p at timestep t for
// the images xt into the noise it implies, in place (the samplers and the
// bound work with eps):
//
//	v:  eps = sqrt(abar_t) v + sqrt(1 - abar_t) x_t
//	x0: eps = (x_t - sqrt(abar_t) x_0) / sqrt(1 - abar_t)
func (s *Schedule) EpsFrom(p Prediction, out, xt []float32, t int) {
	a, b := math.Sqrt(s.ABar[t]), math.Sqrt(1-s.ABar[t])
	switch p {
	case PredictV:
		fa, fb := float32(a), float32(b)
		for j, v := range out {
			out[j] = fa*v + fb*xt[j]
		}
	case PredictX0:
		inv := 1 / b
		fa, fi := float32(a), float32(inv)
		for j, x0 := range out {
			out[j] = (xt[j] - fa*x0) * fi
		}
	}
}

// SNR is the signal-to-noise ratio abar_t / (1 - abar_t) of timestep t.
func (s *Schedule) SNR(t int) float64 { return s.ABar[t] / (1 - s.ABar[t]) }

// Sigma is the noise level sqrt((1 - abar_t) / abar_t) of timestep t: the
// standard deviation of the noise in Karras et al.'s variables, where
// x_t / sqrt(abar_t) is the clean image plus noise of that size.
func (s *Schedule) Sigma(t int) float64 {
	a := s.ABar[t]
	return math.Sqrt((1 - a) / a)
}

// MinSNRWeight is the Min-SNR-gamma loss weight of timestep t (Hang et al.
// 2023) for a network of prediction p: the x_0-space weight min(SNR, gamma)
// expressed in p's space, min(SNR, gamma)/SNR for eps, min(SNR, gamma)/(SNR+1)
// for v and min(SNR, gamma) for x0. It caps the weight of the nearly clean
// timesteps, whose easy gradients otherwise dominate training.
func (s *Schedule) MinSNRWeight(p Prediction, t int, gamma float64) float64 {
	snr := s.SNR(t)
	w := math.Min(snr, gamma)
	switch p {
	case PredictV:
		return w / (snr + 1)
	case PredictX0:
		return w
	default:
		return w / snr
	}
}
