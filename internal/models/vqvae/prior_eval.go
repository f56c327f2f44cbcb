package vqvae

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Evaluate implements models.Model: the exact test negative log-likelihood
// of the test images' code grids.
func (p *Prior) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	ms, err := p.TestMetrics(test, rng)
	if err != nil {
		return models.Report{}, err
	}
	return models.Report{Model: "vqvae-prior", Images: test.N, Metrics: ms, Notes: []string{
		"nll: -log p(codes) per test image in nats, exact, over the code grid its VQ-VAE encodes it to; bits_per_code: the same in bits per grid position",
		"samples: code grids drawn position by position from the prior, decoded by the VQ-VAE",
	}}, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// NLL is kept as checkpoints/best.
func (p *Prior) BestMetric() string { return "nll" }

// TestMetrics implements train.TestEvaluator: the mean test NLL of the
// code grids in nats per image, and in bits per code.
func (p *Prior) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	codes, err := p.testSet(test)
	if err != nil {
		return nil, err
	}
	hw := p.side * p.side
	var vals []int
	nll, err := p.Net.MeanNLL(test.N, p.common.Eval.BatchSize, func(s *nets.PixelCNNGraph, lo, rows int) {
		vals = slices.Grow(vals[:0], s.Batch*hw)[:s.Batch*hw]
		clear(vals)
		for i, c := range codes[lo*hw : (lo+rows)*hw] {
			vals[i] = int(c)
		}
		s.SetValues(vals)
	})
	if err != nil {
		return nil, err
	}
	return []train.Metric{{Name: "nll", Value: nll}, {Name: "bits_per_code", Value: nll / (float64(hw) * math.Ln2)}}, nil
}
