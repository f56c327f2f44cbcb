package ddpm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/classifiers"
	"github.com/genmodel/genmodel/internal/sample"
)

// The pipeline, in diffusers' sense: the network, a sampler of package
// diffusion, and guidance, composed into a reverse process.

// The kinds of guidance (`genmodel sample --guidance`).
const (
	GuidanceClassifier = "classifier" // Dhariwal & Nichol 2021, with the sqrt(1 - abar_t) factor
	GuidanceCFG        = "cfg"        // classifier-free, Ho & Salimans 2022
	GuidanceAuto       = "auto"       // autoguidance, Karras et al. 2024: away from a weaker ddpm
)

// sampling is a reverse process: a sampler choice, guidance, and the
// callbacks of one run.
type sampling struct {
	diffusion.Choice
	// Guidance is "", GuidanceClassifier, GuidanceCFG or GuidanceAuto,
	// with strength Scale; the first two apply to samples of a class,
	// autoguidance to every sample.
	Guidance string
	Scale    float64
	guide    *classifiers.NoisyClassifier // classifier guidance's classifier
	weak     *DDPM                        // autoguidance's weaker ddpm
	// Progress, when set, is called with the number of reverse steps of
	// each batch and returns the function called after each step.
	Progress func(steps int) func()
	// Record, when set, is called with x_t before each step i at timestep t
	// and once more with the result (i = steps, t = -1).
	Record func(i, t int, x []float32)
}

// configured is the configuration's choice (ddpm.sampler, sample_steps, eta,
// guidance).
func (m *DDPM) configured() sampling {
	return sampling{Choice: diffusion.Choice{Sampler: m.cfg.Sampler, Steps: m.cfg.Steps, Eta: m.cfg.Eta, Clip: m.clip()}, Guidance: m.cfg.Guidance}
}

// clip is the bound of the data the samplers may clip their clean-sample
// predictions to: pixels lie in [-1, 1]; an ldm's latents, scaled to unit
// variance, have no bound (clipping them at 1 cut every value beyond one
// standard deviation and drew rippled digits, FID 456.9).
func (m *DDPM) clip() float64 {
	if m.latent != nil {
		return 0
	}
	return 1
}

// gridSampling is what the per-epoch grid draws with: DDIM (eta 0) in
// ddpm.grid_steps steps, cheap enough to watch training.
func (m *DDPM) gridSampling() sampling {
	return sampling{Choice: diffusion.Choice{Sampler: diffusion.SamplerDDIM, Steps: m.cfg.GridSteps, Clip: m.clip()}}
}

// options is the reverse process a request asks for: the configured one
// with the request's choices over it. A step count alone picks its sampler.
func (m *DDPM) options(d sample.Diffusion) (sampling, error) {
	o := m.configured()
	if d.Steps != 0 {
		o.Steps, o.Sampler = d.Steps, ""
	}
	if d.Sampler != "" {
		o.Sampler = d.Sampler
	}
	if d.Eta != nil {
		o.Eta = *d.Eta
	}
	if d.Guidance != "" {
		o.Guidance = d.Guidance
	}
	if o.Guidance == "" {
		o.Guidance = m.pickGuidance()
	}
	o.Scale = d.Scale
	return m.resolve(o)
}

// pickGuidance is the guidance of ddpm.guidance "", as ddpm.sampler ""
// picks a sampler: autoguidance wherever a weak model is at hand, since it
// improves every figure the evaluator reports (docs/results.md), and none
// where there is none. A weak model is at hand when the user names one
// (--weak-model, ddpm.weak_model: then a wrong one is an error, not a
// silent fallback) or when the shipped one fits this ddpm: same images,
// noise schedule and T. The samples' facts say which guidance ran.
func (m *DDPM) pickGuidance() string {
	if m.latent != nil || m.deps == nil {
		return "none"
	}
	if m.deps.Given(WeakModelDependency) || m.cfg.WeakModel != "" {
		return GuidanceAuto
	}
	// Probed, not loaded: a shipped weak model that does not fit is not
	// announced as in use.
	if _, err := m.fittingWeak(models.LoadAs[*DDPM](models.Quiet(m.deps), WeakModelDependency)); err != nil {
		return "none"
	}
	return GuidanceAuto
}

// resolve checks o and fills in what it leaves to the sampler's rules.
func (m *DDPM) resolve(o sampling) (sampling, error) {
	if o.Scale < 0 {
		return o, fmt.Errorf("the guidance scale must not be negative, got %g", o.Scale)
	}
	// Scale 0 (no --scale) is the guidance's configured default: guiding
	// at strength 0 would be no guidance at all.
	switch o.Guidance {
	case "", "none":
		o.Guidance = ""
	case GuidanceClassifier:
		if m.latent != nil {
			return o, fmt.Errorf("guidance classifier needs a noisy classifier of latents, which does not exist; guide an ldm with cfg")
		}
		if o.Scale == 0 {
			o.Scale = m.cfg.ClassifierScale
		}
	case GuidanceCFG:
		if m.Net.Classes == 0 {
			return o, fmt.Errorf("guidance cfg needs a ddpm trained with conditional: true")
		}
		if o.Scale == 0 {
			o.Scale = m.cfg.CFGScale
		}
	case GuidanceAuto:
		if m.latent != nil {
			return o, fmt.Errorf("guidance auto guides pixel diffusion; the ldm has no weaker model to guide it")
		}
		if o.Scale == 0 {
			o.Scale = m.cfg.AutoScale
		}
	default:
		return o, fmt.Errorf("guidance %q is not %s, %s or %s", o.Guidance, GuidanceClassifier, GuidanceCFG, GuidanceAuto)
	}
	var err error
	o.Choice, err = o.Choice.Resolve(m.Sched.T())
	return o, err
}

// guidanceClassifier loads the classifier of classifier guidance, which must
// have been trained on the model's noise schedule.
func (m *DDPM) guidanceClassifier() (*classifiers.NoisyClassifier, error) {
	dep, err := m.deps.Load(ClassifierDependency)
	if err != nil {
		return nil, err
	}
	c, ok := dep.(*classifiers.NoisyClassifier)
	if !ok {
		return nil, fmt.Errorf("--%s: not a noisy classifier", ClassifierDependency.Name)
	}
	if err := m.sameSchedule(ClassifierDependency, "the classifier", c.Sched); err != nil {
		return nil, err
	}
	return c, nil
}

// sameSchedule returns an error naming d's flag unless s, the noise
// schedule of the model d loaded (whose: "the classifier", ...), is the
// ddpm's: guidance combines the two models' views of x_t at each timestep,
// which agree only on one schedule.
func (m *DDPM) sameSchedule(d models.Dependency, whose string, s *diffusion.Schedule) error {
	if len(s.ABar) != len(m.Sched.ABar) {
		return fmt.Errorf("--%s: %s was trained for %d timesteps, the ddpm has %d", d.Name, whose, len(s.ABar), len(m.Sched.ABar))
	}
	for i, a := range s.ABar {
		if math.Abs(a-m.Sched.ABar[i]) > 1e-9 {
			return fmt.Errorf("--%s: %s's noise schedule differs from the ddpm's at t = %d: train it with the ddpm's diffusion settings", d.Name, whose, i)
		}
	}
	return nil
}

// weakModel loads autoguidance's weaker ddpm, which must diffuse the same
// images on the same noise schedule; its network may differ in width, its
// prediction target and its training length (Karras et al. 2024 degrade
// both capacity and training time).
func (m *DDPM) weakModel() (*DDPM, error) {
	return m.fittingWeak(models.LoadAs[*DDPM](m.deps, WeakModelDependency))
}

// fittingWeak returns w, loaded as the weak model, or an error when it was
// not loaded or does not fit m.
func (m *DDPM) fittingWeak(w *DDPM, err error) (*DDPM, error) {
	if err != nil {
		return nil, err
	}
	flag := "--" + WeakModelDependency.Name
	switch {
	case w.latent != nil:
		return nil, fmt.Errorf("%s: an ldm, where autoguidance needs a pixel ddpm", flag)
	case w.in != m.in || w.side != m.side:
		return nil, fmt.Errorf("%s: diffuses %dx%dx%d samples, the ddpm %dx%dx%d", flag, w.in, w.side, w.side, m.in, m.side, m.side)
	case dataOf(w.common.Data) != dataOf(m.common.Data):
		return nil, fmt.Errorf("%s: trained on %s, the ddpm on %s: guide with a weaker ddpm of the same images", flag, dataOf(w.common.Data), dataOf(m.common.Data))
	}
	if err := m.sameSchedule(WeakModelDependency, "the weak model", w.Sched); err != nil {
		return nil, err
	}
	return w, nil
}

// dataOf names the images a model was trained on, for comparing two models:
// the dataset, its folder when it is not MNIST (MNIST's is wherever the
// machine keeps it), and binarization. data.limit is left out: a weaker
// model may well have seen fewer images.
func dataOf(d config.Data) string {
	s := d.Dataset
	if d.Dataset != "mnist" {
		s += " " + d.Dir
	}
	if d.Binarize {
		s += ", binarized"
	}
	return s
}

// sampler returns the network samples come from: the EMA when there is one.
func (m *DDPM) sampler() *nets.UNet {
	if m.EMA != nil {
		return m.EMA
	}
	return m.Net
}

// generate draws n images of class k (k < 0: unconditional) in chunks.
func (m *DDPM) generate(n, k int, opt sampling, rng *rand.Rand) (sample.Images, error) {
	if k < 0 && opt.Guidance != GuidanceAuto {
		opt.Guidance = "" // nothing to steer toward: skip CFG's second pass
	}
	var rev *ReverseProcess
	side := m.side
	if m.latent != nil {
		side = imageSide
	}
	return sample.Fill(n, side, side, func(dst []float32, _, rows int) error {
		if rev == nil || rev.Batch != rows {
			var err error
			if rev, err = m.newReverseProcess(rows, opt); err != nil {
				return err
			}
		}
		rev.Class = k
		x, err := rev.Run(rng)
		if err != nil {
			return err
		}
		if m.latent != nil {
			return m.latent.decode(dst, x, rows)
		}
		for i, v := range x {
			dst[i] = min(1, max(0, (v+1)/2))
		}
		return nil
	})
}
