package vqvae

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Evaluate implements models.Model: the test reconstruction error and the
// codebook's usage over the test set.
func (m *VQVAE) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	ms, err := m.TestMetrics(test, rng)
	if err != nil {
		return models.Report{}, err
	}
	return models.Report{Model: "vqvae", Images: test.N, Metrics: ms, Notes: []string{
		"mse: mean squared error per pixel of the reconstructions (encode, nearest codes, decode) of the test images, pixels in [0, 1], the decoder's output unclamped as trained",
		"perplexity: exp of the entropy of the codes' frequencies over all test latents (at most codebook_size); codes_used: codes picked at least once",
		"samples (genmodel sample): " + m.Prior.Describe(),
	}}, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// reconstruction error is kept as checkpoints/best.
func (m *VQVAE) BestMetric() string { return "mse" }

// TestMetrics implements train.TestEvaluator: mse, perplexity and
// codes_used (see Evaluate).
func (m *VQVAE) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	s := m.Net.Config.Side
	d := s * s
	if test.H != s || test.W != s {
		return nil, fmt.Errorf("test images are %dx%d, the model takes %dx%d", test.H, test.W, s, s)
	}
	bs := max(1, min(m.common.Eval.BatchSize, test.N))
	r, err := m.Net.BuildReconstruct(bs)
	if err != nil {
		return nil, err
	}
	prog, err := graphs.Compile(r.Bound, nil, graphs.Outputs{r.Out})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	l := m.Net.Config.LatentSide()
	counts := make([]int, m.Net.Codebook.K)
	var sse float64
	for lo := 0; lo < test.N; lo += bs {
		rows := min(bs, test.N-lo)
		clear(r.X)
		copy(r.X, test.Pixels[lo*d:(lo+rows)*d])
		if err := prog.Run(); err != nil {
			return nil, err
		}
		out := prog.Value(r.Out)
		for i, v := range out[:rows*d] {
			e := float64(v - r.X[i])
			sse += e * e
		}
		for _, c := range r.Codes.Index[:rows*l*l] {
			counts[c]++
		}
	}
	perplexity, used := usage(counts)
	return []train.Metric{{Name: "mse", Value: sse / float64(test.N*d)},
		{Name: "perplexity", Value: perplexity}, {Name: "codes_used", Value: float64(used)}}, nil
}
