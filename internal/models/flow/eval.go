package flow

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// testBitsPerDim is the exact test-set negative log-likelihood in bits/dim
// over whole batches of the test set, with dequantization noise from a
// fixed seed (the same for every model), and the images it counted.
func (m *Flow) testBitsPerDim(test *data.Dataset) (float64, int, error) {
	d := m.net.dims()
	if test.H*test.W != d {
		return 0, 0, fmt.Errorf("the flow models %d pixels, the test images have %d", d, test.H*test.W)
	}
	batch := max(1, min(m.net.evalBatch(m.common.Eval.BatchSize), test.N))
	x, bound, nll, _, err := m.net.nll(batch, false)
	if err != nil {
		return 0, 0, err
	}
	prog, err := graphs.Compile(bound, nil, graphs.Outputs{nll})
	if err != nil {
		return 0, 0, err
	}
	defer prog.Close()
	rng := rand.New(rand.NewPCG(0x44455155, 0x414e54)) // "DEQUANT"
	logDet := make([]float64, batch)
	var total float64
	done := 0
	for lo := 0; lo+batch <= test.N; lo += batch {
		m.pre.forward(x, test.Pixels[lo*d:(lo+batch)*d], d, rng, logDet)
		if err := prog.Run(); err != nil {
			return 0, 0, err
		}
		total += prog.Scalar(nll)
		for _, v := range logDet {
			total -= v
		}
		done += batch
	}
	if done == 0 {
		return 0, 0, fmt.Errorf("no test images")
	}
	return bitsPerDim(total/float64(done), d), done, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// bits/dim is kept as checkpoints/best.
func (m *Flow) BestMetric() string { return "bits_per_dim" }

// TestMetrics implements train.TestEvaluator.
func (m *Flow) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	bpd, _, err := m.testBitsPerDim(test)
	if err != nil {
		return nil, err
	}
	return []train.Metric{{Name: "bits_per_dim", Value: bpd}}, nil
}

// Evaluate implements models.Model.
func (m *Flow) Evaluate(test *data.Dataset, _ *rand.Rand) (models.Report, error) {
	bpd, n, err := m.testBitsPerDim(test)
	if err != nil {
		return models.Report{}, err
	}
	return models.Report{Model: m.name, Images: n, Metrics: []train.Metric{{Name: "bits_per_dim", Value: bpd}},
		Notes: []string{"bits_per_dim: exact test negative log-likelihood of the 256-level images (uniform dequantization with a fixed seed, logit and 1/256 Jacobians included)"}}, nil
}
