package app

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/genmodel/genmodel/internal/models"
)

// DiffusionFlags are the reverse-process choices of `sample` and `eval`;
// zero values keep the config's (ddpm.sampler, sample_steps, eta).
type DiffusionFlags struct {
	Sampler string
	Steps   int
	Eta     float64
	EtaSet  bool
	// Guidance toward --class: "classifier" (with the noisy classifier at
	// Classifier) or "cfg", of strength Scale.
	Guidance   string
	Scale      float64
	Classifier string
}

func (f DiffusionFlags) given() bool {
	return f.Sampler != "" || f.Steps != 0 || f.EtaSet || f.Guidance != "" || f.Classifier != ""
}

// applyDiffusion sets a diffusion model's sampling from the config and the
// flags, with a progress bar over the reverse steps on bar (nil: none). For
// any other model, diffusion flags are an error.
func applyDiffusion(m models.Model, model string, f DiffusionFlags, bar io.Writer) error {
	ds, ok := m.(models.DiffusionSampler)
	if !ok {
		if f.given() {
			return fmt.Errorf("--sampler, --steps, --eta and --guidance choose a diffusion model's reverse process; the %s has none", model)
		}
		return nil
	}
	o := ds.ConfiguredSampling()
	if f.Steps != 0 {
		o.Steps, o.Sampler = f.Steps, "" // a step count alone picks its sampler
	}
	if f.Sampler != "" {
		o.Sampler = f.Sampler
	}
	if f.EtaSet {
		o.Eta = f.Eta
	}
	o.Guidance, o.Scale = f.Guidance, f.Scale
	if f.Guidance == models.GuidanceClassifier {
		if f.Classifier == "" {
			return fmt.Errorf("--guidance classifier needs --classifier PATH, a noisy-classifier checkpoint (genmodel train --model noisy-classifier)")
		}
		c, _, ck, err := loadTrained("noisy-classifier", f.Classifier, nil)
		if err != nil {
			return fmt.Errorf("--classifier: %w", err)
		}
		if err := ds.(*models.DDPM).SetGuidanceClassifier(c.(*models.NoisyClassifier)); err != nil {
			return fmt.Errorf("--classifier %s: %w", ck.Path, err)
		}
	} else if f.Classifier != "" {
		return fmt.Errorf("--classifier is the classifier of --guidance classifier")
	}
	if bar != nil {
		o.Progress = func(steps int) func() {
			pb := progressbar.NewOptions(steps,
				progressbar.OptionSetWriter(bar),
				progressbar.OptionSetDescription("denoising"),
				progressbar.OptionShowCount(),
				progressbar.OptionSetItsString("step"),
				progressbar.OptionShowIts(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(bar) }),
			)
			return func() { pb.Add(1) }
		}
	}
	if err := ds.SetSampling(o); err != nil {
		return fmt.Errorf("--steps/--sampler/--eta: %w", err)
	}
	return nil
}
