// Package gan holds the generative adversarial networks: the seed's MLP GAN
// (gan) and the convolutional DCGAN (dcgan), which share one training step
// (D then G, as the seed), the generator's weight average, rejection
// sampling, standing statistics and the health checks of the game.
package gan

import (
	"fmt"
	"strings"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// ganSection is the `gan:` section of the configuration.
type ganSection struct {
	LatentDim          int     `mapstructure:"latent_dim"`
	GHidden            []int   `mapstructure:"g_hidden"`
	DHidden            []int   `mapstructure:"d_hidden"`
	LeakySlope         float64 `mapstructure:"leaky_slope"`
	DDropout           float64 `mapstructure:"d_dropout"`
	Loss               string  `mapstructure:"loss"`
	LabelSmoothing     float64 `mapstructure:"label_smoothing"`
	NCritic            int     `mapstructure:"n_critic"`
	WeightClip         float64 `mapstructure:"weight_clip"`
	SpectralNorm       bool    `mapstructure:"spectral_norm"`
	InstanceNoise      float64 `mapstructure:"instance_noise"`
	InstanceNoiseSteps int     `mapstructure:"instance_noise_steps"`
	Conditional        bool    `mapstructure:"conditional"`
	DLR                float64 `mapstructure:"d_lr"`
	GLR                float64 `mapstructure:"g_lr"`
	EMADecay           float64 `mapstructure:"ema_decay"`
	SampleKeep         float64 `mapstructure:"sample_keep"`
}

// dcganSection is the `dcgan:` section: the GAN options and the convolutional
// networks' own.
type dcganSection struct {
	ganSection   `mapstructure:",squash"`
	BaseChannels int     `mapstructure:"base_channels"`
	DChannels    int     `mapstructure:"d_channels"`
	Upsample     string  `mapstructure:"upsample"`
	InfoCodes    int     `mapstructure:"info_codes"`
	InfoWeight   float64 `mapstructure:"info_weight"`
}

// GAN trains a generator/discriminator pair (the seed's MLP GAN or the
// DCGAN) with the seed's alternating updates.
type GAN struct {
	Net  nets.Adversarial
	name string
	cfg  ganSection
	// infoWeight is InfoGAN's lambda (dcgan.info_weight; 0 without codes).
	infoWeight float64
	common     config.Common

	dStep, gStep *nets.GANStep
	dProg, gProg *graphs.Program
	optD, optG   *train.Adam
	metrics      []train.Metric
	lastG        [2]float64 // the last generator step's loss and D(G(z))
	// ema is an exponential moving average of the generator's tensors
	// (named "ema.generator..."), which samples come from when ema_decay > 0.
	ema, gen []*graphs.Param
}

// NewGAN builds the seed's MLP GAN (registered as gan).
func NewGAN(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s ganSection
	if err := decodeSection(cfg, "gan", &s, &s); err != nil {
		return nil, err
	}
	size := common.Data.ImageSide()
	classes, err := ganClasses(s, common, "gan")
	if err != nil {
		return nil, err
	}
	net, err := nets.NewGAN(nets.GANConfig{
		LatentDim: s.LatentDim, ImageDim: size * size, GHidden: s.GHidden, DHidden: s.DHidden,
		Slope: s.LeakySlope, DDropout: s.DDropout, Classes: classes, SpectralNorm: s.SpectralNorm,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newGANModel(net, "gan", s, common, 0), nil
}

// NewDCGAN builds the DCGAN.
func NewDCGAN(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s dcganSection
	if err := decodeSection(cfg, "dcgan", &s, &s.ganSection); err != nil {
		return nil, err
	}
	if common.Data.ImageSide() != 28 {
		return nil, fmt.Errorf("config: the dcgan is built for 28x28 images; set data.image_size to 28")
	}
	classes, err := ganClasses(s.ganSection, common, "dcgan")
	if err != nil {
		return nil, err
	}
	if s.InfoWeight < 0 { // info_codes is NewDCGAN's to check
		return nil, fmt.Errorf("config: dcgan.info_weight must not be negative, got %g", s.InfoWeight)
	}
	net, err := nets.NewDCGAN(nets.DCGANConfig{Latent: s.LatentDim, Base: s.BaseChannels, Slope: s.LeakySlope,
		Upsample: s.Upsample, SpectralNorm: s.SpectralNorm, Classes: classes, DiscBase: s.DChannels, DDropout: s.DDropout,
		Codes: s.InfoCodes, GHidden: s.GHidden, DHidden: s.DHidden}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newGANModel(net, "dcgan", s.ganSection, common, s.InfoWeight), nil
}

// ganClasses is the number of classes a GAN is conditioned on: 10 for a
// conditional GAN of MNIST, 0 otherwise.
func ganClasses(s ganSection, common config.Common, section string) (int, error) {
	if !s.Conditional {
		return 0, nil
	}
	if common.Data.Dataset != "mnist" {
		return 0, fmt.Errorf("config: %s.conditional needs labelled data (data.dataset mnist)", section)
	}
	return 10, nil
}

// newGANModel wraps a network, with the generator's average when asked.
func newGANModel(net nets.Adversarial, name string, s ganSection, common config.Common, infoWeight float64) *GAN {
	m := &GAN{Net: net, name: name, cfg: s, common: common, infoWeight: infoWeight}
	if s.EMADecay > 0 {
		for _, p := range net.AllParams().List() {
			if strings.HasPrefix(p.Name, "generator.") {
				m.gen = append(m.gen, p)
				m.ema = append(m.ema, &graphs.Param{Name: "ema." + p.Name, Shape: p.Shape, Data: append([]float32(nil), p.Data...)})
			}
		}
	}
	return m
}

// decodeSection reads a GAN's section into out and checks the options
// shared by the GANs, which s points to.
func decodeSection(cfg *config.Config, section string, out any, s *ganSection) error {
	if err := cfg.Decode(section, out); err != nil {
		return err
	}
	switch {
	case s.NCritic < 1:
		return fmt.Errorf("config: %s.n_critic must be at least 1, got %d", section, s.NCritic)
	case s.LabelSmoothing < 0 || s.LabelSmoothing >= 1:
		return fmt.Errorf("config: %s.label_smoothing must be in [0, 1), got %g", section, s.LabelSmoothing)
	case s.EMADecay < 0 || s.EMADecay >= 1:
		return fmt.Errorf("config: %s.ema_decay must be in [0, 1), got %g", section, s.EMADecay)
	case !(s.SampleKeep > 0 && s.SampleKeep <= 1):
		return fmt.Errorf("config: %s.sample_keep must be in (0, 1] (1: keep every sample), got %g", section, s.SampleKeep)
	case s.WeightClip < 0 || s.InstanceNoise < 0 || s.InstanceNoiseSteps < 0 || s.DLR < 0 || s.GLR < 0:
		return fmt.Errorf("config: %s.weight_clip, instance_noise, instance_noise_steps, d_lr and g_lr must not be negative", section)
	}
	switch s.Loss {
	case nets.LossBCE, nets.LossMinimax, nets.LossWGAN, nets.LossHinge:
	default:
		return fmt.Errorf("config: %s.loss %q is not bce, minimax, wgan or hinge", section, s.Loss)
	}
	return nil
}
