package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/genmodel/genmodel/internal/app"
)

func newSampleCmd() *cobra.Command {
	var (
		o    app.SampleOptions
		sets []string
	)
	cmd := &cobra.Command{
		Use:   "sample --checkpoint PATH [flags]",
		Short: "Draw images from a trained model",
		Long: `Draw images from a trained model into one PNG grid (--out) or N single PNGs
(--out-dir). PATH is a .safetensors checkpoint or a run folder (its latest
checkpoint). The model's architecture comes from the config saved in the
checkpoint.

Picture kinds (--kind) for the VAE: prior (decoded draws from N(0,I)),
recon (test digits over their reconstructions), interp (a latent
interpolation between two test digits), manifold (the 2-D latent space as a
grid, latent_dim 2 only). Flows: prior (at --temperature) or temperatures
(a row of samples at each of T = 0.5, 0.6, ..., 1.0).

Diffusion models: --steps 1000 (T) runs the DDPM ancestral sampler over the
full chain; fewer steps run DDIM over evenly strided timesteps (--eta 0:
deterministic). --trajectory and --forward add the two pictures of the
reverse and forward processes at about ten timesteps. --guidance steers
samples of --class k: classifier guidance (eps - s sqrt(1-abar_t)
grad log p(k | x_t), with a noisy-classifier checkpoint) or classifier-free
guidance ((1+w) eps(x_t, k) - w eps(x_t), a ddpm trained conditional).`,
		Example: `  genmodel sample --model vae --checkpoint runs/vae --n 64 --out vae.png
  genmodel sample --model vae --checkpoint runs/vae --n 1000 --out-dir vae-samples
  genmodel sample --model vae --checkpoint runs/vae --kind interp --n 10 --out interp.png
  genmodel sample --model gan --checkpoint runs/cgan --class 7 --n 64 --out sevens.png
  genmodel sample --model dcgan --checkpoint runs/infogan --code 3 --n 64 --out code3.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --steps 1000 --out ddpm.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --steps 50 --trajectory reverse.png --forward forward.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --guidance classifier --classifier runs/noisy-classifier --class 3 --scale 2
  genmodel sample --model ddpm --checkpoint runs/cddpm --guidance cfg --class 3 --scale 3
  genmodel sample --model realnvp --checkpoint runs/realnvp --temperature 0.7 --out realnvp-t07.png
  genmodel sample --model glow --checkpoint runs/glow --kind temperatures --n 48 --out glow-temperatures.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Overrides, err = parseSets(sets); err != nil {
				return err
			}
			o.Diffusion.EtaSet = cmd.Flags().Changed("eta")
			if term.IsTerminal(int(os.Stderr.Fd())) {
				o.Progress = cmd.ErrOrStderr() // a bar over the reverse steps; none in logs
			}
			return app.Sample(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model of the checkpoint (checked against it; optional)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint file or run folder")
	f.StringVar(&o.Kind, "kind", "", "picture kind (default prior)")
	f.IntVar(&o.N, "n", 64, "number of images (for interp: steps)")
	f.StringVar(&o.Out, "out", "", "grid PNG to write (default MODEL-KIND.png)")
	f.StringVar(&o.OutDir, "out-dir", "", "write N single PNGs into this folder instead")
	f.Uint64Var(&o.Seed, "seed", 0, "seed of the sampling noise")
	f.IntVar(&o.Class, "class", -1, "digit to draw, for a class-conditional or guided model")
	f.IntVar(&o.Code, "code", -1, "dcgan trained with info_codes: draw this InfoGAN code only (default: the codes in turn, one per column)")
	f.StringVar(&o.Diffusion.Classifier, "classifier", "", "diffusion: noisy-classifier checkpoint of --guidance classifier")
	f.StringArrayVar(&sets, "set", nil, "override a saved config key, e.g. --set data.dir=PATH")
	addDiffusionFlags(f, &o.Diffusion)
	f.Float64Var(&o.Temperature, "temperature", 0, "flows and GANs: sample z from N(0, T^2 I); below 1 trades diversity for fidelity (default 1)")
	f.StringVar(&o.Trajectory, "trajectory", "", "diffusion: also write x_t along reverse chains to this PNG")
	f.StringVar(&o.Forward, "forward", "", "diffusion: also write q(x_t | x_0) of test digits to this PNG")
	return cmd
}

// addDiffusionFlags adds the reverse-process flags of sample and eval.
func addDiffusionFlags(f *pflag.FlagSet, d *app.DiffusionFlags) {
	f.StringVar(&d.Sampler, "sampler", "", "diffusion: ddpm (ancestral, all T steps) or ddim (default: by --steps)")
	f.IntVar(&d.Steps, "steps", 0, "diffusion: reverse steps; T (1000) = the full DDPM chain, fewer = DDIM (default: ddpm.sample_steps)")
	f.Float64Var(&d.Eta, "eta", 0, "diffusion: DDIM noise, 0 deterministic to 1 (default: ddpm.eta)")
	f.StringVar(&d.Guidance, "guidance", "", "diffusion: steer --class samples: classifier (needs the classifier) or cfg (a conditional ddpm)")
	f.Float64Var(&d.Scale, "scale", 1, "diffusion: guidance strength (cfg: w in (1+w) eps(x,y) - w eps(x); classifier: s)")
}
