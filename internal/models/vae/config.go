package vae

import (
	"fmt"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// vaeSection is the `vae:` section of the configuration.
type vaeSection struct {
	LatentDim     int     `mapstructure:"latent_dim"`
	Hidden        []int   `mapstructure:"hidden"`
	Decoder       string  `mapstructure:"decoder"`
	Beta          float64 `mapstructure:"beta"`
	KLWarmupSteps int     `mapstructure:"kl_warmup_steps"`
	FreeBits      float64 `mapstructure:"free_bits"`
}

// VAE trains, samples and evaluates nets.VAE, the seed's MLP VAE.
type VAE struct {
	Net    *nets.VAE
	cfg    vaeSection
	common config.Common

	loss    *nets.VAETrainGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
}

// New builds the VAE.
func New(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s vaeSection
	if err := cfg.Decode("vae", &s); err != nil {
		return nil, err
	}
	if s.Beta < 0 || s.KLWarmupSteps < 0 || s.FreeBits < 0 {
		return nil, fmt.Errorf("config: vae.beta, vae.kl_warmup_steps and vae.free_bits must not be negative")
	}
	size := common.Data.ImageSide()
	net, err := nets.NewVAE(nets.VAEConfig{
		InputDim: size * size, Hidden: s.Hidden, LatentDim: s.LatentDim,
		Decoder: s.Decoder, FreeBits: s.FreeBits,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &VAE{Net: net, cfg: s, common: common}, nil
}
