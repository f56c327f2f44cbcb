// Package vqvae is the VQ-VAE of van den Oord et al. 2017, "Neural Discrete
// Representation Learning": a convolutional encoder to a 7x7 grid of
// latents, each replaced by its nearest code of a learned codebook, and a
// mirror decoder. The codebook follows the encoder's outputs by exponential
// moving averages, and codes left unused are restarted at encoder outputs.
// Samples decode grids of codes drawn by a CodePrior: the PixelCNN of the
// model vqvae-prior (prior.go), trained on the VQ-VAE's codes, or each
// position independently.
package vqvae

import (
	"fmt"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Priors over the codes that vqvae.prior names.
const (
	// HistogramPrior draws each position's code from the codebook's usage
	// during training (its cluster_size averages).
	HistogramPrior = "histogram"
	// UniformPrior draws each position's code uniformly.
	UniformPrior = "uniform"
	// PixelCNNPrior draws whole grids from a trained vqvae-prior: the one
	// --code-prior or vqvae.code_prior names, else the shipped one.
	PixelCNNPrior = "pixelcnn"
)

// CodePriorDependency is the trained prior of vqvae.prior: pixelcnn.
var CodePriorDependency = models.Dependency{
	Name:    "code-prior",
	Key:     "vqvae.code_prior",
	Model:   "vqvae-prior",
	Purpose: "the PixelCNN prior over the VQ-VAE's codes (vqvae.prior: pixelcnn)",
}

// section is the `vqvae:` section of the configuration.
type section struct {
	Channels     int     `mapstructure:"channels"`
	ResChannels  int     `mapstructure:"res_channels"`
	ResBlocks    int     `mapstructure:"res_blocks"`
	EmbeddingDim int     `mapstructure:"embedding_dim"`
	CodebookSize int     `mapstructure:"codebook_size"`
	Beta         float64 `mapstructure:"beta"`
	EMADecay     float64 `mapstructure:"ema_decay"`
	EMAEpsilon   float64 `mapstructure:"ema_epsilon"`
	DeadAfter    int     `mapstructure:"dead_after"`
	Prior        string  `mapstructure:"prior"`
	CodePrior    string  `mapstructure:"code_prior"`
}

// VQVAE trains, samples and evaluates nets.VQVAE.
type VQVAE struct {
	Net *nets.VQVAE
	// Prior draws the grids of codes that samples decode. New sets the
	// one vqvae.prior names; a trained prior (a PixelCNN over the codes)
	// replaces it.
	Prior  CodePrior
	cfg    section
	common config.Common
	deps   models.Loader

	shown *data.Dataset // the training images of the epoch grids

	loss    *nets.VQVAETrainGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
}

// New builds the VQ-VAE.
func New(cfg *config.Config, common config.Common, deps models.Loader) (models.Model, error) {
	var s section
	if err := cfg.Decode("vqvae", &s); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if s.Prior != PixelCNNPrior && deps.Given(CodePriorDependency) {
		return nil, fmt.Errorf("--code-prior is drawn from only with vqvae.prior pixelcnn (this model's is %s); add --set vqvae.prior=pixelcnn", s.Prior)
	}
	net, err := nets.NewVQVAE(nets.VQVAEConfig{
		Side: common.Data.ImageSide(), Channels: s.Channels, ResChannels: s.ResChannels, ResBlocks: s.ResBlocks,
		EmbedDim: s.EmbeddingDim, Codes: s.CodebookSize,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	// Every code starts as dead: the first step restarts those its batch
	// does not pick at the batch's encoder outputs, a data-dependent
	// initialization of the codebook.
	for i := range net.Codebook.Unused.Data {
		net.Codebook.Unused.Data[i] = float32(s.DeadAfter)
	}
	m := &VQVAE{Net: net, cfg: s, common: common, deps: deps}
	m.Prior = m.configuredPrior()
	return m, nil
}

// check refuses settings the model cannot train with.
func (s section) check() error {
	switch {
	case !(s.Beta >= 0):
		return fmt.Errorf("vqvae.beta must not be negative, got %g", s.Beta)
	case !(s.EMADecay >= 0 && s.EMADecay < 1):
		return fmt.Errorf("vqvae.ema_decay must be in [0, 1), got %g", s.EMADecay)
	case !(s.EMAEpsilon > 0):
		return fmt.Errorf("vqvae.ema_epsilon must be positive, got %g", s.EMAEpsilon)
	case s.DeadAfter <= 0:
		return fmt.Errorf("vqvae.dead_after must be a positive number of steps, got %d", s.DeadAfter)
	case s.Prior != HistogramPrior && s.Prior != UniformPrior && s.Prior != PixelCNNPrior:
		return fmt.Errorf("vqvae.prior must be %q, %q or %q, got %q", PixelCNNPrior, HistogramPrior, UniformPrior, s.Prior)
	}
	return nil
}
