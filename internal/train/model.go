package train

import (
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/sample"
)

// Batch is one batch of training images.
type Batch struct {
	X      []float32 // Size*H*W pixels in [0,1]
	Labels []uint8   // Size labels, or nil
	Size   int
	H, W   int
}

// Metric is one named figure of a step or an epoch.
type Metric struct {
	Name  string
	Value float64
}

// Trainable is a model as the loop sees it.
type Trainable interface {
	// Params returns every tensor of the checkpoint, in state_dict order.
	Params() []*graphs.Param
	// Optimizers returns the model's optimizers, whose state is checkpointed.
	Optimizers() []checkpoint.Named
	// TrainStep trains on one batch; rng is this step's own noise source. The
	// first metric is the loss shown on the progress bar.
	TrainStep(b Batch, step int64, rng *rand.Rand) ([]Metric, error)
}

// Sampler is implemented by generative models: the loop writes a grid of
// their samples after each epoch.
type Sampler interface {
	// Samples draws n images, taking all randomness from rng.
	Samples(n int, rng *rand.Rand) (sample.Images, error)
}

// GridLayout is implemented by Samplers whose samples have an order the
// default grid would hide: a conditional GAN draws the classes in turn, so its
// grid needs one class per column.
type GridLayout interface {
	GridOptions() sample.GridOptions
}

// EpochChecker is implemented by models that can tell from an epoch's mean
// metrics that training has gone wrong (a GAN whose discriminator wins); the
// loop prints each warning and records it in metrics.jsonl.
type EpochChecker interface {
	CheckEpoch(epochMetrics []Metric) []string
}

// TrainingSetUser is implemented by models that need the training set
// itself, not only its batches: a semi-supervised model keeps a labelled
// subset for itself and trains on the loop's batches as unlabelled images.
// Run calls UseTrainingSet once, before anything else, and iterates over the
// set it returns. The result must be a pure function of the set and the
// model's configuration, so that a resumed run sees the same data.
type TrainingSetUser interface {
	UseTrainingSet(ds *data.Dataset) (*data.Dataset, error)
}

// TestEvaluator is implemented by models that report test-set losses after
// each epoch.
type TestEvaluator interface {
	TestMetrics(test *data.Dataset, rng *rand.Rand) ([]Metric, error)
}

// BestTracker is implemented by test evaluators whose test metric ranks
// checkpoints: after each epoch the run points checkpoints/best at the
// checkpoint with its lowest value so far (checkpoint.BestFile), which
// pruning keeps.
type BestTracker interface {
	TestEvaluator
	// BestMetric names one of TestMetrics' metrics (without "test_"),
	// lower being better.
	BestMetric() string
}
