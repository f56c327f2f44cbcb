// Package ddpm is the denoising diffusion family (Ho et al. 2020): the UNet
// trained to predict noise with its weight average (config.go, train.go),
// the sampling options and guidance (pipeline.go) over the compiled reverse
// process (reverse.go) and the samplers of internal/diffusion, what
// `genmodel sample` draws (sample.go), the pictures of the forward and
// reverse processes (pictures.go), the variational bound (nll.go), and
// latent diffusion, the model ldm: the same diffusion over a trained
// VQ-VAE's latents (ldm.go). The networks are in graphs/nets; the schedules and samplers, pure math, in
// internal/diffusion.
package ddpm

import (
	"fmt"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// ClassifierDependency is the dependency of classifier guidance: a noisy
// classifier trained on the ddpm's noise schedule.
var ClassifierDependency = models.Dependency{
	Name:    "guidance-classifier",
	Key:     "ddpm.guidance_classifier",
	Model:   "noisy-classifier",
	Purpose: "the classifier of --guidance classifier",
}

// WeakModelDependency is the dependency of autoguidance: a weaker ddpm of the
// same images and noise schedule, smaller or trained for less long.
var WeakModelDependency = models.Dependency{
	Name:    "weak-model",
	Key:     "ddpm.weak_model",
	Model:   "ddpm",
	Shipped: "ddpm-weak",
	Purpose: "the weaker ddpm of --guidance auto",
}

// The loss weightings of ddpm.loss_weighting.
const (
	// WeightingSimple weighs every timestep alike in the space of the
	// prediction: with eps, Ho et al.'s simple loss.
	WeightingSimple = "simple"
	// WeightingMinSNR is Min-SNR-gamma (Hang et al. 2023).
	WeightingMinSNR = "min_snr"
)

// section is the `ddpm:` section of the configuration.
type section struct {
	diffusion.ScheduleConfig `mapstructure:",squash"`
	Channels                 int     `mapstructure:"channels"`
	TimeEmbed                int     `mapstructure:"time_embed"`
	Groups                   int     `mapstructure:"groups"`
	Prediction               string  `mapstructure:"prediction"`
	LossWeighting            string  `mapstructure:"loss_weighting"`
	MinSNRGamma              float64 `mapstructure:"min_snr_gamma"`
	EMADecay                 float64 `mapstructure:"ema_decay"`
	GridSteps                int     `mapstructure:"grid_steps"`
	Conditional              bool    `mapstructure:"conditional"`
	ClassDropout             float64 `mapstructure:"class_dropout"`
	Sampler                  string  `mapstructure:"sampler"`
	Steps                    int     `mapstructure:"sample_steps"`
	Eta                      float64 `mapstructure:"eta"`
	CFGScale                 float64 `mapstructure:"cfg_scale"`
	ClassifierScale          float64 `mapstructure:"classifier_scale"`    // pixels only: the ldm has no noisy classifier
	Guidance                 string  `mapstructure:"guidance"`            // without --guidance: none, auto, or "" (see pickGuidance)
	AutoScale                float64 `mapstructure:"auto_scale"`          // pixels only
	AutoSigmaMin             float64 `mapstructure:"auto_sigma_min"`      // pixels only
	AutoSigmaMax             float64 `mapstructure:"auto_sigma_max"`      // pixels only; 0: no bound
	WeakModel                string  `mapstructure:"weak_model"`          // read by the dependency loader
	GuidanceClassifier       string  `mapstructure:"guidance_classifier"` // read by the dependency loader
}

// DDPM trains a UNet to predict noise and samples with the reverse
// processes of package diffusion.
type DDPM struct {
	Net    *nets.UNet
	EMA    *nets.UNet // the averaged weights, "ema."-prefixed in checkpoints
	Sched  *diffusion.Schedule
	Pred   diffusion.Prediction // what Net outputs
	cfg    section
	common config.Common
	in     int          // channels of the samples diffused: 1 for images
	side   int          // of the square samples diffused
	latent *latentSpace // the autoencoder of an ldm; nil for pixels
	deps   models.Loader

	trainG  *nets.NoiseGraph
	prog    *graphs.Program
	opt     *train.Adam
	ts      []int
	x0, eps []float32
	metrics []train.Metric
}

// New builds the ddpm.
func New(cfg *config.Config, common config.Common, deps models.Loader) (models.Model, error) {
	if side := common.Data.ImageSide(); side != 28 {
		return nil, fmt.Errorf("config: UNet-S is built for 28x28 images; set data.image_size to 28")
	}
	var s section
	if err := cfg.Decode("ddpm", &s); err != nil {
		return nil, err
	}
	return build(s, "ddpm", common, deps, 1, 28, nil)
}

// build builds a diffusion model from the config section s (named name in
// errors) over samples of in channels on a side x side grid: the images
// themselves (latent nil) or an autoencoder's latents.
func build(s section, name string, common config.Common, deps models.Loader, in, side int, latent *latentSpace) (*DDPM, error) {
	if s.EMADecay < 0 || s.EMADecay >= 1 {
		return nil, fmt.Errorf("config: %s.ema_decay must be in [0, 1), got %g", name, s.EMADecay)
	}
	if s.GridSteps < 1 || s.GridSteps > s.Timesteps {
		return nil, fmt.Errorf("config: %s.grid_steps must be between 1 and %s.timesteps (%d), got %d", name, name, s.Timesteps, s.GridSteps)
	}
	sched, err := s.Build()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	pred, err := diffusion.ParsePrediction(s.Prediction)
	if err != nil {
		return nil, fmt.Errorf("config: %s.%w", name, err)
	}
	switch s.LossWeighting {
	case WeightingSimple:
	case WeightingMinSNR:
		if !(s.MinSNRGamma > 0) {
			return nil, fmt.Errorf("config: %s.min_snr_gamma must be positive, got %g", name, s.MinSNRGamma)
		}
	default:
		return nil, fmt.Errorf("config: %s.loss_weighting %q is not %s or %s", name, s.LossWeighting, WeightingSimple, WeightingMinSNR)
	}
	if s.ClassDropout < 0 || s.ClassDropout >= 1 {
		return nil, fmt.Errorf("config: %s.class_dropout must be in [0, 1), got %g", name, s.ClassDropout)
	}
	ucfg := nets.UNetConfig{Ch: s.Channels, TEmb: s.TimeEmbed, Groups: s.Groups, Side: side, In: in}
	if s.Conditional {
		if common.Data.Dataset != "mnist" {
			return nil, fmt.Errorf("config: %s.conditional needs labelled data (data.dataset mnist)", name)
		}
		ucfg.Classes = 10
	}
	net, err := nets.NewUNet(ucfg, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if s.AutoSigmaMin < 0 || s.AutoSigmaMax < 0 || (s.AutoSigmaMax > 0 && s.AutoSigmaMax <= s.AutoSigmaMin) {
		return nil, fmt.Errorf("config: %s.auto_sigma_min and auto_sigma_max must bound an interval: 0 <= min < max, or max 0 for no bound; got %g and %g", name, s.AutoSigmaMin, s.AutoSigmaMax)
	}
	switch s.Guidance {
	case "", "none", GuidanceAuto:
	default:
		return nil, fmt.Errorf("config: %s.guidance %q: choose none, auto or \"\" (classifier and cfg steer one class, asked for with --guidance and --class)", name, s.Guidance)
	}
	m := &DDPM{Net: net, Sched: sched, Pred: pred, cfg: s, common: common, in: in, side: side, latent: latent, deps: deps}
	if _, err := m.resolve(m.configured()); err != nil {
		return nil, fmt.Errorf("config: %s.%w", name, err)
	}
	if s.EMADecay > 0 {
		m.EMA, _ = nets.NewUNet(ucfg, models.InitRNG(common.Seed))
		m.EMA.Params.Prefix("ema.")
	}
	return m, nil
}

// pixels is the number of values of one sample in the space diffused:
// an image's pixels, or an ldm's padded latent.
func (m *DDPM) pixels() int { return m.in * m.side * m.side }
