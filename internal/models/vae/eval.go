package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Evaluate implements models.Model. On the test set it reports, per image, the
// reconstruction loss, the KL divergence and their sum (the negative ELBO
// with beta = 1, one posterior sample per image: the definition of the
// PyTorch reference's test loss). With the Bernoulli decoder it adds the
// importance-weighted bound of Burda et al. (2016) with eval.iwae_k samples,
// an estimate of the negative log-likelihood in nats.
func (v *VAE) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	rep := models.Report{Model: "vae", Images: test.N}
	ms, err := v.TestMetrics(test, rng)
	if err != nil {
		return rep, err
	}
	rep.Metrics = ms
	rep.Notes = append(rep.Notes, "loss = recon + kl per test image, one posterior sample each")
	if v.Net.Config.Decoder == nets.BernoulliDecoder && v.common.Eval.IWAEK > 0 {
		nll, err := v.iwae(test, v.common.Eval.IWAEK, rng)
		if err != nil {
			return rep, err
		}
		rep.Metrics = append(rep.Metrics, train.Metric{Name: "iwae_nll_nats", Value: nll})
		rep.Notes = append(rep.Notes, fmt.Sprintf("iwae_nll_nats: importance-weighted bound, k=%d", v.common.Eval.IWAEK))
	}
	return rep, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// loss (the negative ELBO per image) is kept as checkpoints/best.
func (v *VAE) BestMetric() string { return "loss" }

// TestMetrics implements train.TestEvaluator.
func (v *VAE) TestMetrics(test *data.Dataset, rng *rand.Rand) ([]train.Metric, error) {
	var recon, kl float64
	err := v.scoreBatches(test, 1, rng, func(s *nets.VAEScoreGraph, rows int, r, mu, lv []float32) {
		zd := s.LatentDim
		for i := 0; i < rows; i++ {
			recon += float64(r[i])
			for j := i * zd; j < (i+1)*zd; j++ {
				m, l := float64(mu[j]), float64(lv[j])
				kl += -0.5 * (1 + l - m*m - math.Exp(l))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	n := float64(test.N)
	return []train.Metric{{Name: "loss", Value: (recon + kl) / n}, {Name: "recon", Value: recon / n}, {Name: "kl", Value: kl / n}}, nil
}

// iwae returns the mean over test images of
// -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q(z|x).
func (v *VAE) iwae(test *data.Dataset, k int, rng *rand.Rand) (float64, error) {
	zd := v.Net.Config.LatentDim
	halfLog2Pi := 0.5 * math.Log(2*math.Pi)
	// Running log-sum-exp per image: max and scaled sum.
	lseMax := make([]float64, test.N)
	lseSum := make([]float64, test.N)
	for i := range lseMax {
		lseMax[i] = math.Inf(-1)
	}
	var offset int
	err := v.scoreBatches(test, k, rng, func(s *nets.VAEScoreGraph, rows int, r, mu, lv []float32) {
		for i := 0; i < rows; i++ {
			logw := -float64(r[i])
			for j := i * zd; j < (i+1)*zd; j++ {
				e := float64(s.Eps[j])
				l := float64(lv[j])
				z := float64(mu[j]) + math.Exp(0.5*l)*e
				logw += -0.5*z*z - halfLog2Pi         // log p(z)
				logw -= -0.5*e*e - 0.5*l - halfLog2Pi // log q(z|x)
			}
			idx := offset + i
			if logw > lseMax[idx] {
				lseSum[idx] = lseSum[idx]*math.Exp(lseMax[idx]-logw) + 1
				lseMax[idx] = logw
			} else {
				lseSum[idx] += math.Exp(logw - lseMax[idx])
			}
		}
		offset += rows
		if offset == test.N {
			offset = 0 // the next pass over the test set
		}
	})
	if err != nil {
		return 0, err
	}
	var total float64
	logK := math.Log(float64(k))
	for i := range lseMax {
		total += -(lseMax[i] + math.Log(lseSum[i]) - logK)
	}
	return total / float64(test.N), nil
}

// scoreBatches runs the score graph over the test set passes times, each
// pass with fresh noise, calling visit with the per-image outputs of each
// batch (only the first rows rows are real images).
func (v *VAE) scoreBatches(test *data.Dataset, passes int, rng *rand.Rand, visit func(s *nets.VAEScoreGraph, rows int, recon, mu, logVar []float32)) error {
	bs := max(1, min(v.common.Eval.BatchSize, test.N))
	s, err := v.Net.BuildScores(bs)
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.ReconPerImage, s.Mu, s.LogVar})
	if err != nil {
		return err
	}
	defer prog.Close()
	d := v.Net.Config.InputDim
	if test.H*test.W != d {
		return fmt.Errorf("test images are %dx%d, the model takes %d pixels", test.H, test.W, d)
	}
	for p := 0; p < passes; p++ {
		for lo := 0; lo < test.N; lo += bs {
			rows := min(bs, test.N-lo)
			clear(s.X)
			copy(s.X, test.Pixels[lo*d:(lo+rows)*d])
			models.FillNormal(s.Eps, rng)
			if err := prog.Run(); err != nil {
				return err
			}
			visit(s, rows, prog.Value(s.ReconPerImage), prog.Value(s.Mu), prog.Value(s.LogVar))
		}
	}
	return nil
}
