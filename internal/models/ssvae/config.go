// Package ssvae is the semi-supervised VAE of Kingma et al. 2014, "Semi-
// Supervised Learning with Deep Generative Models", model M2: a classifier
// q(y|x), an encoder q(z|x,y) and a Bernoulli decoder p(x|y,z), trained on
// a few labelled MNIST digits and the rest of the training set unlabelled.
// q(y|x) is the classifier it is judged by.
package ssvae

import (
	"fmt"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// classes is the number of values of y: MNIST's digits.
const classes = 10

// section is the `ssvae:` section of the configuration.
type section struct {
	Labels              int     `mapstructure:"labels"`
	LabelledBatch       int     `mapstructure:"labelled_batch"`
	Alpha               float64 `mapstructure:"alpha"`
	LatentDim           int     `mapstructure:"latent_dim"`
	Hidden              []int   `mapstructure:"hidden"`
	Activation          string  `mapstructure:"activation"`
	DynamicBinarization bool    `mapstructure:"dynamic_binarization"`
}

// SSVAE trains, samples and evaluates nets.SSVAE.
type SSVAE struct {
	Net    *nets.SSVAE
	cfg    section
	common config.Common

	// Set by UseTrainingSet: the labelled images and the size N of the
	// whole training set, labelled and unlabelled.
	labelled *data.Dataset
	total    int

	loss    *nets.SSVAETrainGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
	xu, xl  []float32 // the step's images as trained on (binarized)
	ys      []uint8   // the step's labels
	pick    []int     // indices into labelled
}

// New builds the SSVAE.
func New(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s section
	if err := cfg.Decode("ssvae", &s); err != nil {
		return nil, err
	}
	if err := s.check(common); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	size := common.Data.ImageSide()
	net, err := nets.NewSSVAE(nets.SSVAEConfig{
		InputDim: size * size, Classes: classes, LatentDim: s.LatentDim,
		Hidden: s.Hidden, Activation: s.Activation,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &SSVAE{Net: net, cfg: s, common: common}, nil
}

// check refuses settings the model cannot train with.
func (s section) check(common config.Common) error {
	switch {
	case common.Data.Dataset != "mnist":
		return fmt.Errorf("the ssvae needs labels: data.dataset must be mnist")
	case s.Labels <= 0 || s.Labels%classes != 0:
		return fmt.Errorf("ssvae.labels must be a positive multiple of %d (as many of each class), got %d", classes, s.Labels)
	case s.LabelledBatch <= 0 || s.LabelledBatch > s.Labels:
		return fmt.Errorf("ssvae.labelled_batch must be in [1, ssvae.labels = %d], got %d", s.Labels, s.LabelledBatch)
	case !(s.Alpha >= 0):
		return fmt.Errorf("ssvae.alpha must not be negative, got %g", s.Alpha)
	}
	return nil
}
