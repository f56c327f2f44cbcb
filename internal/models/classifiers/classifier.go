// Package classifiers holds the models that label digits rather than draw
// them: the evaluator's MNIST classifier and the noisy classifier of the
// ddpm's classifier guidance.
package classifiers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/evaluate"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// Classifier trains nets.Classifier, the evaluator's feature network.
type Classifier struct {
	Net     *nets.Classifier
	dropout float64
	common  config.Common

	loss    *nets.ClassifierTrainGraph
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
}

// NewClassifier builds the classifier (registered as classifier).
func NewClassifier(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s struct {
		Dropout float64 `mapstructure:"dropout"`
	}
	if err := cfg.Decode("classifier", &s); err != nil {
		return nil, err
	}
	if s.Dropout < 0 || s.Dropout >= 1 {
		return nil, fmt.Errorf("config: classifier.dropout must be in [0, 1), got %g", s.Dropout)
	}
	if common.Data.Dataset != "mnist" {
		return nil, fmt.Errorf("config: the classifier needs labels: data.dataset must be mnist")
	}
	return &Classifier{Net: nets.NewClassifier(models.InitRNG(common.Seed)), dropout: s.Dropout, common: common}, nil
}

// Params implements train.Trainable.
func (c *Classifier) Params() []*graphs.Param { return c.Net.Params.List() }

// Optimizers implements train.Trainable.
func (c *Classifier) Optimizers() []checkpoint.Named {
	if c.opt == nil {
		c.opt = models.NewAdam(c.common.Train, c.Params())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: c.opt}}
}

// TrainStep implements train.Trainable.
func (c *Classifier) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if b.Labels == nil {
		return nil, fmt.Errorf("the classifier needs labelled images")
	}
	if c.prog == nil {
		lg, err := c.Net.BuildLoss(b.Size)
		if err != nil {
			return nil, err
		}
		if c.prog, err = graphs.Compile(lg.Bound, lg.Loss, graphs.Outputs{lg.Loss, lg.Logits}); err != nil {
			return nil, err
		}
		c.loss = lg
	}
	copy(c.loss.X, b.X)
	clear(c.loss.OneHot)
	for i, y := range b.Labels {
		c.loss.OneHot[i*10+int(y)] = 1
	}
	keep := float32(1 / (1 - c.dropout))
	for i := range c.loss.DropMask {
		if rng.Float64() < c.dropout {
			c.loss.DropMask[i] = 0
		} else {
			c.loss.DropMask[i] = keep
		}
	}
	if err := c.prog.Run(); err != nil {
		return nil, err
	}
	c.Optimizers()
	if err := c.opt.Update(c.prog.Params(), c.prog.Grads()); err != nil {
		return nil, err
	}
	correct := 0
	logits := c.prog.Value(c.loss.Logits)
	for i, y := range b.Labels {
		if evaluate.TopClass(logits[i*10:(i+1)*10]) == int(y) {
			correct++
		}
	}
	c.metrics = append(c.metrics[:0],
		train.Metric{Name: "loss", Value: c.prog.Scalar(c.loss.Loss)},
		train.Metric{Name: "accuracy", Value: float64(correct) / float64(b.Size)})
	return c.metrics, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// cross-entropy is kept as checkpoints/best.
func (c *Classifier) BestMetric() string { return "loss" }

// TestMetrics implements train.TestEvaluator: test accuracy and loss.
func (c *Classifier) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	if test.Labels == nil {
		return nil, fmt.Errorf("the test images have no labels")
	}
	probs := make([]float32, 0, test.N*10)
	err := evaluate.ClassifierBatches(c.Net, c.common.Eval.BatchSize, sample.Images{N: test.N, H: test.H, W: test.W, Pix: test.Pixels},
		func(lo, rows int, features, p []float32) { probs = append(probs, p[:rows*10]...) })
	if err != nil {
		return nil, err
	}
	var nll float64
	correct := 0
	for i, y := range test.Labels {
		p := probs[i*10 : (i+1)*10]
		if evaluate.TopClass(p) == int(y) {
			correct++
		}
		nll -= math.Log(math.Max(float64(p[y]), 1e-30))
	}
	n := float64(test.N)
	return []train.Metric{{Name: "loss", Value: nll / n}, {Name: "accuracy", Value: float64(correct) / n}}, nil
}

// Evaluate implements models.Model: test accuracy and loss.
func (c *Classifier) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	ms, err := c.TestMetrics(test, rng)
	if err != nil {
		return models.Report{}, err
	}
	return models.Report{Model: "classifier", Images: test.N, Metrics: ms, Notes: []string{"loss: mean cross-entropy in nats"}}, nil
}

// Kinds implements models.Model: a classifier draws no pictures.
func (c *Classifier) Kinds() []sample.Kind { return nil }

// Classes implements models.Model.
func (c *Classifier) Classes(sample.Request) int { return 0 }

// Draw implements models.Model.
func (c *Classifier) Draw(sample.Request, *rand.Rand) (sample.Drawing, error) {
	return sample.Drawing{}, fmt.Errorf("the classifier draws no images")
}
