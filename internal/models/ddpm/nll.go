package ddpm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// NLLBitsPerDim estimates the DDPM variational bound L_vlb (Ho et al.
// 2020, eq. 5, with the discretized decoder) in bits/dim on the first n
// test images (a fixed subset), with the sampling weights: one draw of x_t
// per image and timestep, so T network evaluations per batch.
func (m *DDPM) NLLBitsPerDim(test *data.Dataset, n int, rng *rand.Rand) (bpd float64, images int, note string, err error) {
	d := m.pixels()
	if test.H*test.W != d {
		return 0, 0, "", fmt.Errorf("the ddpm models %dx%d images, the test images are %dx%d", m.side, m.side, test.H, test.W)
	}
	n = min(n, test.N)
	if n < 1 {
		return 0, 0, "", fmt.Errorf("no test images for the bound")
	}
	s := m.Sched
	var total float64
	var r *ReverseProcess
	err = sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
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
		noise := make([]float32, len(x0))
		for i := range rows {
			total += s.PriorKL(x0[i*d : (i+1)*d])
		}
		for t := s.T() - 1; t >= 0; t-- {
			models.FillNormal(noise, rng)
			s.QSample(r.X(), x0, noise, constInts(rows, t), d)
			xt := r.X() // Eps reads x_t without changing it
			eps, err := r.Eps(t)
			if err != nil {
				return err
			}
			for i := range rows {
				a, b := i*d, (i+1)*d
				if t == 0 {
					total += s.DecoderNLL(x0[a:b], xt[a:b], eps[a:b])
				} else {
					total += s.StepKL(x0[a:b], xt[a:b], eps[a:b], t)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, "", err
	}
	note = fmt.Sprintf("nll_bits_per_dim: the DDPM variational bound L_vlb (discretized decoder, sigma_t^2 = beta_t) on the first %d test images, one x_t draw per timestep", n)
	return total / float64(n) / (float64(d) * math.Ln2), n, note, nil
}

func constInts(n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Evaluate implements models.Model: a DDPM's figures are the evaluator's,
// of its samples.
func (m *DDPM) Evaluate(*data.Dataset, *rand.Rand) (models.Report, error) {
	return models.Report{Model: "ddpm", Notes: []string{"see the evaluator's figures of its samples"}}, nil
}
