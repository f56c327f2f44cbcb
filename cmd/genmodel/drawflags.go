package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/genmodel/genmodel/internal/app"
	"github.com/genmodel/genmodel/internal/models"
)

// drawFlags binds the flags `sample` and `eval` share, declared once. The
// flags of dependencies (--guidance-classifier, ...) come from what the
// registered models declare, so a new family's needs appear here unasked.
type drawFlags struct {
	sets []string
	eta  float64
	deps map[string]*string
}

func addDrawFlags(f *pflag.FlagSet, d *app.DrawFlags, seedHelp, setExample string) *drawFlags {
	b := &drawFlags{deps: map[string]*string{}}
	f.StringVar(&d.Model, "model", "", "model of the checkpoint (checked against it; optional)")
	f.StringVar(&d.Checkpoint, "checkpoint", "", "checkpoint file or run folder (default: the latest checkpoint in runs/MODEL, else MODEL's shipped weights)")
	f.StringVar(&d.Pretrained, "pretrained", "", "use the weights of --model that ship in the binary even when runs/MODEL holds a run; =NAME for other shipped weights (--pretrained=ddpm-conditional)")
	f.Lookup("pretrained").NoOptDefVal = app.PretrainedOfModel
	f.Uint64Var(&d.Seed, "seed", 0, seedHelp)
	f.StringArrayVar(&b.sets, "set", nil, "override a saved config key, e.g. --set "+setExample)
	r := &d.Request
	f.Float64Var(&r.Temperature, "temperature", 0, "flows and GANs: sample z from N(0, T^2 I); below 1 trades diversity for fidelity (default 1)")
	f.StringVar(&r.Diffusion.Sampler, "sampler", "", "diffusion: ddpm (ancestral, all T steps), ddim, dpm++2m, euler or heun (default: by --steps)")
	f.IntVar(&r.Diffusion.Steps, "steps", 0, "diffusion: reverse steps; T (1000) = the full DDPM chain, fewer = DPM-Solver++(2M) (default: ddpm.sample_steps)")
	f.Float64Var(&b.eta, "eta", 0, "diffusion: DDIM noise, 0 deterministic to 1 (default: ddpm.eta)")
	f.StringVar(&r.Diffusion.Guidance, "guidance", "", "diffusion: steer --class samples: classifier (with --guidance-classifier, else the shipped noisy-classifier) or cfg (a conditional ddpm); auto: every sample away from a weaker ddpm (--weak-model, else the shipped ddpm-weak); none (default: ddpm.guidance)")
	f.Float64Var(&r.Diffusion.Scale, "scale", 0, "diffusion: guidance strength (cfg: w in (1+w) eps(x,y) - w eps(x); auto: w in (1+w) eps(x) - w eps_weak(x); classifier: s) (default: ddpm.cfg_scale, ddpm.auto_scale or ddpm.classifier_scale)")
	for _, dep := range models.Dependencies() {
		b.deps[dep.Name] = f.String(dep.Name, "", dep.Purpose+": a "+dep.Model+" checkpoint or run folder (default: the shipped "+dep.ShippedName()+" weights, if any)")
	}
	return b
}

// fill completes d from the parsed flags.
func (b *drawFlags) fill(cmd *cobra.Command, d *app.DrawFlags) error {
	var err error
	if d.Overrides, err = parseSets(b.sets); err != nil {
		return err
	}
	if cmd.Flags().Changed("eta") {
		d.Request.Diffusion.Eta = &b.eta
	}
	d.Deps = map[string]string{}
	for name, path := range b.deps {
		d.Deps[name] = *path
	}
	return nil
}
