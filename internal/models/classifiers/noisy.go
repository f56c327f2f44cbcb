package classifiers

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/evaluate"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// NoisyClassifier trains nets.NoisyClassifier on x_t of uniformly drawn
// timesteps, for classifier guidance.
type NoisyClassifier struct {
	Net    *nets.NoisyClassifier
	Sched  *diffusion.Schedule
	common config.Common

	g       *nets.NoisyClassifierGraph
	prog    *graphs.Program
	opt     *train.Adam
	ts      []int
	x0      []float32
	eps     []float32
	metrics []train.Metric
}

// NewNoisy builds the noisy classifier (registered as noisy-classifier).
func NewNoisy(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s diffusion.ScheduleConfig
	if err := cfg.Decode("diffusion", &s); err != nil {
		return nil, err
	}
	if common.Data.Dataset != "mnist" {
		return nil, fmt.Errorf("config: the noisy classifier needs labels: data.dataset must be mnist")
	}
	sched, err := s.Build()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &NoisyClassifier{Net: nets.NewNoisyClassifier(models.InitRNG(common.Seed)), Sched: sched, common: common}, nil
}

// Params implements train.Trainable.
func (c *NoisyClassifier) Params() []*graphs.Param { return c.Net.Params.List() }

// Optimizers implements train.Trainable.
func (c *NoisyClassifier) Optimizers() []checkpoint.Named {
	if c.opt == nil {
		c.opt = models.NewAdam(c.common.Train, c.Params())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: c.opt}}
}

// TrainStep implements train.Trainable: cross-entropy on x_t of the batch
// at uniform timesteps.
func (c *NoisyClassifier) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if b.Labels == nil {
		return nil, fmt.Errorf("the noisy classifier needs labelled images")
	}
	if err := c.build(b.Size); err != nil {
		return nil, err
	}
	for i := range c.ts {
		c.ts[i] = rng.IntN(c.Sched.T())
	}
	c.noisy(b.X, b.Labels, rng)
	if err := c.prog.Run(); err != nil {
		return nil, err
	}
	c.Optimizers()
	if err := c.opt.Update(c.prog.Params(), c.prog.Grads()); err != nil {
		return nil, err
	}
	c.metrics = append(c.metrics[:0],
		train.Metric{Name: "loss", Value: c.prog.Scalar(c.g.Loss)},
		train.Metric{Name: "accuracy", Value: accuracy(c.prog.Value(c.g.Logits), b.Labels)})
	return c.metrics, nil
}

// build compiles the training graph once, for the first batch size asked
// (training and testing share it).
func (c *NoisyClassifier) build(batch int) error {
	if c.prog != nil {
		return nil
	}
	g, err := c.Net.BuildGraph(batch, false)
	if err != nil {
		return err
	}
	if c.prog, err = graphs.Compile(g.Bound, g.Loss, graphs.Outputs{g.Loss, g.Logits}); err != nil {
		return err
	}
	c.g = g
	c.ts, c.x0, c.eps = make([]int, batch), make([]float32, len(g.XT)), make([]float32, len(g.XT))
	return nil
}

// noisy fills the graph's inputs with x_t of images x (in [0, 1]) at c.ts.
func (c *NoisyClassifier) noisy(x []float32, labels []uint8, rng *rand.Rand) {
	for i, v := range x {
		c.x0[i] = 2*v - 1
	}
	models.FillNormal(c.eps, rng)
	c.Sched.QSample(c.g.XT, c.x0, c.eps, c.ts, len(c.x0)/len(c.ts))
	layers.TimestepEmbedding(c.g.TSin, c.ts, nets.NoisyClassifierTimeDim)
	clear(c.g.OneHot)
	for i, y := range labels {
		c.g.OneHot[i*10+int(y)] = 1
	}
}

func accuracy(logits []float32, labels []uint8) float64 {
	correct := 0
	for i, y := range labels {
		if evaluate.TopClass(logits[i*10:(i+1)*10]) == int(y) {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}

// evalTimesteps are the noise levels Evaluate reports accuracy at: 0, T/4,
// T/2, 3T/4 and T-1 (0, 250, 500, 750 and 999 for T = 1000).
func (c *NoisyClassifier) evalTimesteps() []int {
	T := c.Sched.T()
	return []int{0, T / 4, T / 2, 3 * T / 4, T - 1}
}

// TestMetrics implements train.TestEvaluator: test accuracy at uniform
// timesteps.
func (c *NoisyClassifier) TestMetrics(test *data.Dataset, rng *rand.Rand) ([]train.Metric, error) {
	acc, err := c.testAccuracy(test, -1, rng)
	if err != nil {
		return nil, err
	}
	return []train.Metric{{Name: "accuracy", Value: acc}}, nil
}

// testAccuracy classifies the test set noised at timestep t (t < 0: each
// image at a uniform timestep) in training-size batches.
func (c *NoisyClassifier) testAccuracy(test *data.Dataset, t int, rng *rand.Rand) (float64, error) {
	if test.Labels == nil {
		return 0, fmt.Errorf("the test images have no labels")
	}
	if err := c.build(c.common.Train.BatchSize); err != nil {
		return 0, err
	}
	batch := len(c.ts)
	correct := 0.0
	full := test.N / batch * batch // whole batches only: the graph's size is fixed
	for lo := 0; lo < full; lo += batch {
		for i := range c.ts {
			c.ts[i] = t
			if t < 0 {
				c.ts[i] = rng.IntN(c.Sched.T())
			}
		}
		d := len(c.x0) / batch
		if test.H*test.W != d {
			return 0, fmt.Errorf("the noisy classifier takes %d-pixel images, the test images have %d", d, test.H*test.W)
		}
		c.noisy(test.Pixels[lo*d:(lo+batch)*d], test.Labels[lo:lo+batch], rng)
		if err := c.prog.Run(); err != nil {
			return 0, err
		}
		correct += accuracy(c.prog.Value(c.g.Logits), test.Labels[lo:lo+batch]) * float64(batch)
	}
	return correct / float64(full), nil
}

// Evaluate implements models.Model: test accuracy at several noise levels.
func (c *NoisyClassifier) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	var ms []train.Metric
	for _, t := range c.evalTimesteps() {
		acc, err := c.testAccuracy(test, t, rng)
		if err != nil {
			return models.Report{}, err
		}
		ms = append(ms, train.Metric{Name: fmt.Sprintf("accuracy_t%d", t), Value: acc})
	}
	return models.Report{Model: "noisy-classifier", Images: test.N / len(c.ts) * len(c.ts), Metrics: ms,
		Notes: []string{fmt.Sprintf("accuracy_tN: test accuracy on x_t at timestep N (t=%d is almost pure noise)", c.Sched.T()-1)}}, nil
}

// Kinds implements models.Model: a classifier draws no pictures.
func (c *NoisyClassifier) Kinds() []sample.Kind { return nil }

// Classes implements models.Model.
func (c *NoisyClassifier) Classes(sample.Request) int { return 0 }

// Draw implements models.Model.
func (c *NoisyClassifier) Draw(sample.Request, *rand.Rand) (sample.Drawing, error) {
	return sample.Drawing{}, fmt.Errorf("the noisy classifier draws no images")
}
