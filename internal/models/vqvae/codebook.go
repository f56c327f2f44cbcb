package vqvae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs/nets"
)

// The codebook's updates outside the graph (van den Oord et al. 2017,
// appendix A.1): exponential moving averages of each code's count of
// assigned encoder outputs and of their sum, the code their ratio with
// Laplace smoothing, and restarts of dead codes; and the usage figures.

// emaConfig is how the codebook follows the encoder.
type emaConfig struct {
	Decay     float64 // of the moving averages (the paper's 0.99)
	Epsilon   float64 // Laplace smoothing of the counts
	DeadAfter int     // steps unpicked after which a code is restarted
}

// histogram counts each of k codes in idx.
func histogram(idx []int32, k int) []int {
	n := make([]int, k)
	for _, c := range idx {
		n[c]++
	}
	return n
}

// usage returns the perplexity exp(H) of the codes' frequencies in counts
// and how many codes have any.
func usage(counts []int) (perplexity float64, used int) {
	total := 0
	for _, n := range counts {
		total += n
	}
	var h float64
	for _, n := range counts {
		if n > 0 {
			used++
			p := float64(n) / float64(total)
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h), used
}

// updateCodebook takes one EMA step of cb toward the encoder outputs ze
// (B, D, P) of a batch and the codes idx (B*P) they were assigned:
//
//	N_k <- decay N_k + (1 - decay) n_k,    m_k <- decay m_k + (1 - decay) sum_{i: k_i = k} z_i,
//	e_k = m_k / Ñ_k,                       Ñ_k = (N_k + eps) / (sum_j N_j + K eps) * sum_j N_j,
//
// then counts the steps each code has gone unpicked, and restarts every
// code unpicked for cfg.DeadAfter steps at an encoder output of the batch
// drawn with rng (its averages reset to that one output). It returns the
// number of codes restarted.
func updateCodebook(cb *nets.VQCodebook, ze []float32, idx []int32, p int, cfg emaConfig, rng *rand.Rand) int {
	k, d := cb.K, cb.D
	counts := histogram(idx, k)
	sums := make([]float64, k*d)
	for i, c := range idx {
		b, q := i/p, i%p
		for ch := 0; ch < d; ch++ {
			sums[int(c)*d+ch] += float64(ze[(b*d+ch)*p+q])
		}
	}
	decay := cfg.Decay
	size, avg := cb.ClusterSize.Data, cb.EmbedAvg.Data
	var total float64
	for j := range size {
		size[j] = float32(decay*float64(size[j]) + (1-decay)*float64(counts[j]))
		total += float64(size[j])
		for ch := 0; ch < d; ch++ {
			avg[j*d+ch] = float32(decay*float64(avg[j*d+ch]) + (1-decay)*sums[j*d+ch])
		}
	}
	eps := cfg.Epsilon
	for j := range size {
		smoothed := (float64(size[j]) + eps) / (total + float64(k)*eps) * total
		for ch := 0; ch < d; ch++ {
			cb.Embed.Data[j*d+ch] = float32(float64(avg[j*d+ch]) / smoothed)
		}
	}
	restarted := 0
	for j, n := range counts {
		if n > 0 {
			cb.Unused.Data[j] = 0
			continue
		}
		cb.Unused.Data[j]++
		if cb.Unused.Data[j] < float32(cfg.DeadAfter) {
			continue
		}
		i := rng.IntN(len(idx))
		b, q := i/p, i%p
		for ch := 0; ch < d; ch++ {
			v := ze[(b*d+ch)*p+q]
			cb.Embed.Data[j*d+ch], avg[j*d+ch] = v, v
		}
		size[j], cb.Unused.Data[j] = 1, 0
		restarted++
	}
	return restarted
}

// CodePrior draws the grids of codes that the decoder turns into samples:
// a prior over the VQ-VAE's latent grid. The independent priors below stand
// in until a trained one (a PixelCNN over the codes) is plugged in.
type CodePrior interface {
	// Describe says how the prior draws, for notes and logs.
	Describe() string
	// Draw returns n grids of side x side codes, [n, side, side]
	// row-major, each a code index of the codebook.
	Draw(n, side int, rng *rand.Rand) ([]int32, error)
}

// independentPrior draws every position's code independently from fixed
// weights over the codes.
type independentPrior struct {
	what    string
	weights func() []float64 // read when drawing: the codebook may have moved
}

func (p independentPrior) Describe() string { return p.what }

func (p independentPrior) Draw(n, side int, rng *rand.Rand) ([]int32, error) {
	w := p.weights()
	cdf := make([]float64, len(w))
	var s float64
	for i, v := range w {
		s += v
		cdf[i] = s
	}
	if !(s > 0) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("the code prior's weights sum to %g", s)
	}
	out := make([]int32, n*side*side)
	for i := range out {
		u := rng.Float64() * s
		k := 0
		for k < len(cdf)-1 && cdf[k] <= u {
			k++
		}
		out[i] = int32(k)
	}
	return out, nil
}

// configuredPrior is the prior vqvae.prior names.
func (m *VQVAE) configuredPrior() CodePrior {
	cb := m.Net.Codebook
	uniform := func() []float64 {
		w := make([]float64, cb.K)
		for i := range w {
			w[i] = 1
		}
		return w
	}
	if m.cfg.Prior == PixelCNNPrior {
		return &trainedPrior{ae: m}
	}
	if m.cfg.Prior == UniformPrior {
		return independentPrior{what: "each code of the latent grid drawn uniformly from the codebook, independently (no trained prior)", weights: uniform}
	}
	return independentPrior{
		what: "each code of the latent grid drawn independently from the codebook's usage in training (its EMA counts; no trained prior)",
		weights: func() []float64 {
			w := make([]float64, cb.K)
			var s float64
			for i, v := range cb.ClusterSize.Data {
				w[i] = float64(v)
				s += w[i]
			}
			if !(s > 0) { // an untrained codebook
				return uniform()
			}
			return w
		},
	}
}
