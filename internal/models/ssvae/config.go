// Package ssvae is the semi-supervised VAE of Kingma et al. 2014, "Semi-
// Supervised Learning with Deep Generative Models", model M2: a classifier
// q(y|x), an encoder q(z|x,y) and a Bernoulli decoder p(x|y,z), trained on
// a few labelled MNIST digits and the rest of the training set unlabelled.
// q(y|x) is the classifier it is judged by.
//
// With ssvae.features m1 it is M1+M2: M2 models the latents z1 of a trained
// VAE (M1, the dependency --m1) instead of the pixels, a Gaussian
// p(z1|y,z2) in place of the Bernoulli p(x|y,z); training draws z1 from
// M1's posterior q(z1|x) at every use of an image, classification and
// evaluation take its mean, and samples are M1's decoding of M2's means.
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
	Features            string  `mapstructure:"features"`
	M1                  string  `mapstructure:"m1"` // read by the dependency loader
	M1LatentDim         int     `mapstructure:"m1_latent_dim"`
}

// Values of ssvae.features.
const (
	pixelFeatures = "pixels" // M2 on the pixels
	m1Features    = "m1"     // M1+M2: M2 on an M1 VAE's latents
)

// M1Dependency is the VAE whose latents M1+M2 models.
var M1Dependency = models.Dependency{
	Name:    "m1",
	Key:     "ssvae.m1",
	Model:   "vae",
	Purpose: "the M1 VAE whose latents the ssvae models (ssvae.features: m1)",
}

// SSVAE trains, samples and evaluates nets.SSVAE.
type SSVAE struct {
	Net    *nets.SSVAE
	cfg    section
	common config.Common

	// m1 is M1 of M1+M2, loaded when first needed; nil on pixels.
	m1 *m1Stage

	// Set by UseTrainingSet: the labelled images and the size N of the
	// whole training set, labelled and unlabelled.
	labelled *data.Dataset
	total    int

	loss    *nets.SSVAETrainGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
	xu, xl  []float32 // the step's images as trained on (binarized, or gray for M1)
	zu, zl  []float32 // with M1: the step's draws of z1 for them
	ys      []uint8   // the step's labels
	pick    []int     // indices into labelled
}

// New builds the SSVAE.
func New(cfg *config.Config, common config.Common, deps models.Loader) (models.Model, error) {
	var s section
	if err := cfg.Decode("ssvae", &s); err != nil {
		return nil, err
	}
	if err := s.check(common); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	size := common.Data.ImageSide()
	inputs, likelihood := size*size, nets.BernoulliLikelihood
	if s.Features == m1Features {
		inputs, likelihood = s.M1LatentDim, nets.GaussianLikelihood
	}
	net, err := nets.NewSSVAE(nets.SSVAEConfig{
		InputDim: inputs, Classes: classes, LatentDim: s.LatentDim,
		Hidden: s.Hidden, Activation: s.Activation, Likelihood: likelihood,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	m := &SSVAE{Net: net, cfg: s, common: common}
	if s.Features == m1Features {
		m.m1 = &m1Stage{deps: deps, dim: s.M1LatentDim, pixels: size * size}
	} else if deps != nil && deps.Given(M1Dependency) {
		return nil, fmt.Errorf("--m1 is for ssvae.features m1; this ssvae models the pixels")
	}
	return m, nil
}

// pixels is the number of pixels of an image.
func (m *SSVAE) pixels() int { side := m.common.Data.ImageSide(); return side * side }

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
	case s.Features != pixelFeatures && s.Features != m1Features:
		return fmt.Errorf("ssvae.features must be %s or %s, got %q", pixelFeatures, m1Features, s.Features)
	case s.Features == m1Features && s.M1LatentDim <= 0:
		return fmt.Errorf("ssvae.m1_latent_dim must be the M1 VAE's vae.latent_dim, got %d", s.M1LatentDim)
	}
	return nil
}
