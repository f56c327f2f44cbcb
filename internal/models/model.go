// Package models is what every model family shares: the Model interface the
// commands see, the registry of model names, the dependencies between
// trained models, and the helpers of more than one family (weight averages,
// seeded initialization, Adam from the config). Each family lives in its own
// folder below, with its configuration, training step, sampling, evaluation
// and pictures, and describes itself with an Entry; internal/models/all is
// the list of entries.
//
// Adding a model is its folder, its YAML in configs/, one line in
// internal/models/all and a row in the README's model table.
package models

import (
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// Model is a trainable model with what `sample` and `eval` need. The
// commands see models through this interface only.
type Model interface {
	train.Trainable
	// Kinds lists the pictures Draw makes, the default first; a model that
	// draws nothing (a classifier) lists none.
	Kinds() []sample.Kind
	// Classes is how many classes req may ask for (0: none). It depends on
	// the request where guidance supplies the classes.
	Classes(req sample.Request) int
	// Draw answers a request that Draw (the package function) has checked.
	Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error)
	// Evaluate scores the model on the test set; rng drives any sampling.
	Evaluate(test *data.Dataset, rng *rand.Rand) (Report, error)
}

// SamplingOnly is implemented by models part of whose parameters neither
// sampling nor evaluation reads (a GAN's discriminator). genmodel export
// writes only those, and a checkpoint so marked loads into them alone; the
// rest keep their initial values.
type SamplingOnly interface {
	// SamplingParams lists the parameters drawing reads, to load into.
	SamplingParams() []*graphs.Param
	// SamplingState returns copies of them as drawing binds them (for a
	// model that keeps an average, the average's, named as the raw ones),
	// to export.
	SamplingState() ([]*graphs.Param, error)
}

// LikelihoodBound is implemented by models whose likelihood can only be
// bounded at a cost (diffusion): `eval --metrics nll`.
type LikelihoodBound interface {
	// NLLBitsPerDim bounds the negative log-likelihood of the first n test
	// images in bits/dim. timesteps > 0 estimates each image's sum over the
	// chain's terms from that many timesteps instead of all of them.
	NLLBitsPerDim(test *data.Dataset, n, timesteps int, rng *rand.Rand) (Bound, error)
}

// Bound is a likelihood bound in bits/dim, averaged over Images test
// images, with the standard error of that mean (over images, so it holds
// both the test subset's spread and the estimate's own noise).
type Bound struct {
	BitsPerDim, StdErr float64
	Images             int
	Note               string
}

// Report is the result of Evaluate: named figures in a fixed order, with a
// one-line description of how they were measured.
type Report struct {
	Model   string
	Images  int
	Metrics []train.Metric
	Notes   []string
}
