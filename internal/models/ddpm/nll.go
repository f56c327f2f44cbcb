package ddpm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// NLLBitsPerDim bounds the negative log-likelihood of the first n test
// images (a fixed subset) by the DDPM variational bound L_vlb (Ho et al.
// 2020, eq. 5, with the discretized decoder and sigma_t^2 = beta_t):
//
//	L_vlb = L_T + sum_{t=1}^{T-1} L_t + L_0
//
// With timesteps = 0 every term is computed (T network evaluations per
// image). With 0 < timesteps < T-1, L_T (no network) and the decoder term
// L_0 (often the largest) stay exact and the middle sum is estimated from
// stratified draws: the timesteps 1..T-1 are cut into that many strata of
// near-equal size, one t drawn uniformly in each, for each image its own,
// and each term weighted by its stratum's size. The estimate is unbiased,
// so a bound over the whole test set costs timesteps+1 evaluations per
// image instead of T. Each x_t is one draw of q(x_t | x_0).
func (m *DDPM) NLLBitsPerDim(test *data.Dataset, n, timesteps int, rng *rand.Rand) (models.Bound, error) {
	if m.latent != nil {
		return models.Bound{}, fmt.Errorf("the ldm has no likelihood bound in pixel space (its decoder is deterministic); score its samples")
	}
	d := m.pixels()
	if test.H*test.W != d {
		return models.Bound{}, fmt.Errorf("the ddpm models %dx%d images, the test images are %dx%d", m.side, m.side, test.H, test.W)
	}
	n = min(n, test.N)
	if n < 1 {
		return models.Bound{}, fmt.Errorf("no test images for the bound")
	}
	if timesteps < 0 {
		return models.Bound{}, fmt.Errorf("the bound's timesteps must not be negative, got %d", timesteps)
	}
	s := m.Sched
	strata := strataOf(s.T()-1, timesteps)
	perImage := make([]float64, n) // each image's bound, in nats
	var r *ReverseProcess
	err := sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
		if r == nil || r.Batch != rows {
			var err error
			if r, err = m.newReverseProcess(rows, sampling{}); err != nil {
				return err
			}
		}
		x0 := make([]float32, rows*d)
		for i, v := range test.Pixels[lo*d : (lo+rows)*d] {
			x0[i] = 2*v - 1
		}
		nats := perImage[lo : lo+rows]
		for i := range rows {
			nats[i] = s.PriorKL(x0[i*d : (i+1)*d])
		}
		noise := make([]float32, len(x0))
		ts := make([]int, rows)
		// term adds weight * L_t for row i's own timestep ts[i].
		term := func(weight float64) error {
			models.FillNormal(noise, rng)
			s.QSample(r.X(), x0, noise, ts, d)
			copy(r.net.ts, ts)
			xt := r.X() // netEps reads x_t without changing it
			eps, err := r.netEps(r.net, xt)
			if err != nil {
				return err
			}
			for i, t := range ts {
				a, b := i*d, (i+1)*d
				if t == 0 {
					nats[i] += weight * s.DecoderNLL(x0[a:b], xt[a:b], eps[a:b])
				} else {
					nats[i] += weight * s.StepKL(x0[a:b], xt[a:b], eps[a:b], t)
				}
			}
			return nil
		}
		for _, st := range strata {
			for i := range ts {
				ts[i] = st.lo + rng.IntN(st.size)
			}
			if err := term(float64(st.size)); err != nil {
				return err
			}
		}
		clear(ts)
		return term(1) // L_0
	})
	if err != nil {
		return models.Bound{}, err
	}
	toBPD := 1 / (float64(d) * math.Ln2)
	mean, se := meanAndStdErr(perImage)
	how := "every timestep"
	if len(strata) < s.T()-1 {
		how = fmt.Sprintf("L_T and L_0 exact, the %d middle terms estimated from %d stratified timesteps per image", s.T()-1, len(strata))
	}
	return models.Bound{
		BitsPerDim: mean * toBPD, StdErr: se * toBPD, Images: n,
		Note: fmt.Sprintf("nll_bits_per_dim: the DDPM variational bound L_vlb (discretized decoder, sigma_t^2 = beta_t) on the first %d test images, %s, one x_t draw each; nll_stderr is the standard error over images", n, how),
	}, nil
}

// stratum is the timesteps lo..lo+size-1.
type stratum struct{ lo, size int }

// strataOf cuts the timesteps 1..terms into k strata of near-equal size;
// k = 0 or k >= terms gives one stratum per timestep (the exact sum).
func strataOf(terms, k int) []stratum {
	if k <= 0 || k >= terms {
		k = terms
	}
	out := make([]stratum, k)
	for i := range out {
		lo, hi := 1+i*terms/k, 1+(i+1)*terms/k
		out[i] = stratum{lo, hi - lo}
	}
	return out
}

// meanAndStdErr is the mean of xs and its standard error (0 for one value).
func meanAndStdErr(xs []float64) (mean, se float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1) / float64(len(xs)))
}

// Evaluate implements models.Model: a DDPM's figures are the evaluator's,
// of its samples.
func (m *DDPM) Evaluate(*data.Dataset, *rand.Rand) (models.Report, error) {
	name := "ddpm"
	if m.latent != nil {
		name = "ldm"
	}
	return models.Report{Model: name, Notes: []string{"see the evaluator's figures of its samples"}}, nil
}
