package pixelcnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Evaluate implements models.Model: the exact test negative log-likelihood.
func (m *PixelCNN) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	ms, err := m.TestMetrics(test, rng)
	if err != nil {
		return models.Report{}, err
	}
	how := "one Bernoulli draw of each test pixel from its gray value, the same draw for every run (fixed seed)"
	if m.cfg.Binarization == Threshold {
		how = "the test pixels thresholded at 0.5"
	}
	notes := []string{
		"nll: -log p(x) per test image in nats, exact (a product of the per-pixel Bernoullis); bits_per_dim: the same in bits per pixel",
		"binarized: " + how,
	}
	if m.cfg.Conditional {
		notes = append(notes, "conditional: -log p(x | y) with each image's own label")
	}
	return models.Report{Model: "pixelcnn", Images: test.N, Metrics: ms, Notes: notes}, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// NLL is kept as checkpoints/best.
func (m *PixelCNN) BestMetric() string { return "nll" }

// TestMetrics implements train.TestEvaluator: the mean test NLL in nats per
// image over the whole test set, and in bits per pixel. rng is unused: the
// test set's binarization is fixed.
func (m *PixelCNN) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	d := m.side * m.side
	if test.H*test.W != d {
		return nil, fmt.Errorf("test images are %dx%d, the model takes %dx%d", test.H, test.W, m.side, m.side)
	}
	if m.cfg.Conditional && test.Labels == nil {
		return nil, fmt.Errorf("a conditional pixelcnn's evaluation needs labelled test images")
	}
	bin := m.binaryTest(test)
	var ys []int
	nll, err := m.Net.MeanNLL(test.N, m.common.Eval.BatchSize, func(s *nets.PixelCNNGraph, lo, rows int) {
		clear(s.X)
		copy(s.X, bin[lo*d:(lo+rows)*d])
		s.SetBinary(s.X)
		if s.Y != nil {
			ys = slices.Grow(ys[:0], s.Batch)[:s.Batch]
			clear(ys)
			for i := range rows {
				ys[i] = int(test.Labels[lo+i])
			}
			s.SetClasses(ys)
		}
	})
	if err != nil {
		return nil, err
	}
	return []train.Metric{{Name: "nll", Value: nll}, {Name: "bits_per_dim", Value: nll / (float64(d) * math.Ln2)}}, nil
}
