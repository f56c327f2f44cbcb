package ddpm

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler: the per-epoch grid, drawn by DDIM in
// ddpm.grid_steps steps.
func (m *DDPM) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.generate(n, -1, m.gridSampling(), rng)
}

// Kinds implements models.Model: samples (of a class, guided or not), the
// reverse process as rows of x_t from noise to sample, and the forward
// process q(x_t | x_0) of test digits.
func (m *DDPM) Kinds() []sample.Kind {
	if m.latent != nil { // the pictures of x_t would show latents, not digits
		return []sample.Kind{{Name: "prior", Takes: sample.TakesClass | sample.TakesDiffusion}}
	}
	return []sample.Kind{
		{Name: "prior", Takes: sample.TakesClass | sample.TakesDiffusion},
		{Name: "trajectory", Takes: sample.TakesDiffusion, Grid: true, DefaultN: trajectoryRows},
		{Name: "forward", NeedsTest: true, Grid: true, DefaultN: trajectoryRows},
	}
}

// Classes implements models.Model: 10 for a conditional network, or with
// classifier guidance, whose classifier knows the digits; else 0.
func (m *DDPM) Classes(req sample.Request) int {
	if m.Net.Classes > 0 || req.Diffusion.Guidance == GuidanceClassifier {
		return 10
	}
	return 0
}

// trajectoryRows and trajectoryColumns size the trajectory and forward
// pictures: eight chains or digits at about ten timesteps, as the seed's
// diagram.
const trajectoryRows, trajectoryColumns = 8, 10

// Draw implements models.Model. The prior's facts name the sampler and its
// steps; for the trajectory and forward pictures, N is the number of rows.
func (m *DDPM) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	if m.latent != nil && req.Kind != "prior" {
		return sample.Drawing{}, fmt.Errorf("the ldm has no %q picture", req.Kind)
	}
	if req.Kind == "forward" {
		imgs, grid, err := m.ForwardProcess(req.Test, req.N, trajectoryColumns, rng)
		return sample.Drawing{Images: imgs, Grid: grid}, err
	}
	opt, err := m.options(req.Diffusion)
	if err != nil {
		return sample.Drawing{}, fmt.Errorf("--steps/--sampler/--eta/--guidance: %w", err)
	}
	switch given := m.deps.Given(ClassifierDependency); {
	case opt.Guidance == GuidanceClassifier:
		if opt.guide, err = m.guidanceClassifier(); err != nil {
			return sample.Drawing{}, err
		}
	case given:
		return sample.Drawing{}, fmt.Errorf("--%s is %s; add --guidance classifier or leave it out", ClassifierDependency.Name, ClassifierDependency.Purpose)
	}
	switch given := m.deps.Given(WeakModelDependency); {
	case opt.Guidance == GuidanceAuto:
		if opt.weak, err = m.weakModel(); err != nil {
			return sample.Drawing{}, err
		}
	case given:
		return sample.Drawing{}, fmt.Errorf("--%s is %s; add --guidance auto or leave it out", WeakModelDependency.Name, WeakModelDependency.Purpose)
	}
	opt.Progress = req.Progress
	switch req.Kind {
	case "trajectory":
		imgs, grid, err := m.Trajectory(req.N, trajectoryColumns, opt, rng)
		return sample.Drawing{Images: imgs, Grid: grid}, err
	case "prior":
		imgs, err := m.generate(req.N, req.Class, opt, rng)
		facts := []sample.Fact{{Name: "sampler", Value: opt.Sampler}, {Name: "sample_steps", Value: opt.Steps}}
		if opt.Guidance != "" {
			facts = append(facts, sample.Fact{Name: "guidance", Value: opt.Guidance}, sample.Fact{Name: "guidance_scale", Value: opt.Scale})
		}
		if opt.Guidance == GuidanceAuto && m.autoBounded() {
			facts = append(facts, sample.Fact{Name: "auto_sigma_min", Value: m.cfg.AutoSigmaMin}, sample.Fact{Name: "auto_sigma_max", Value: m.cfg.AutoSigmaMax})
		}
		return sample.Drawing{Images: imgs, Grid: sample.DefaultGridOptions(), Facts: facts}, err
	}
	return sample.Drawing{}, fmt.Errorf("the ddpm has no %q picture", req.Kind)
}
