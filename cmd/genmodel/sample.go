package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/genmodel/genmodel/internal/app"
)

func newSampleCmd() *cobra.Command {
	var (
		o     app.SampleOptions
		flags *drawFlags
	)
	cmd := &cobra.Command{
		Use:   "sample (--model M | --checkpoint PATH) [flags]",
		Short: "Draw images from a trained model",
		Long: `Draw images from a trained model into one PNG grid (--out) or N single PNGs
(--out-dir). PATH is a .safetensors checkpoint or a run folder (its latest
checkpoint). With --model M alone: the latest checkpoint in runs/M, the
folder 'train --model M' writes, else the weights of M that ship in the
binary (--pretrained: always those); the first line says which. The
model's architecture comes from the config saved in the checkpoint.

Picture kinds (--kind) for the VAE: prior (decoded draws from N(0,I)),
recon (test digits over their reconstructions), interp (a latent
interpolation between two test digits), manifold (the 2-D latent space as a
grid, latent_dim 2 only). Flows: prior (at --temperature) or temperatures
(a row of samples at each of T = 0.5, 0.6, ..., 1.0). The SSVAE: prior (a
class per column, or --class k), analogies (--n rows, each one z from the
prior drawn with y = 0..9) or style (--n test digits, each followed by its
inferred z drawn with y = 0..9). The VQ-VAE: prior (decoded 7x7 grids of
codes: with vqvae.prior pixelcnn drawn by the vqvae-prior of --code-prior,
else each code drawn independently from the codebook's usage in training)
or recon (--n test digits, each beside its reconstruction). Its
vqvae-prior: samples, or codes (each drawn grid of codes, as gray levels,
beside its digit).

Diffusion models: prior (samples), trajectory (x_t along --n reverse
chains at about ten timesteps, from noise to sample) or forward (q(x_t | x_0)
of --n test digits). --steps 1000 (T) runs the DDPM ancestral sampler over
the full chain; fewer steps run DPM-Solver++(2M), or the --sampler named:
ddim (with --eta, 0 deterministic to 1), dpm++2m, euler or heun (Karras et
al.'s spacing; heun evaluates the network twice a step). --guidance steers samples toward --class k (without it, toward each class in turn, a row of each): classifier guidance
(eps - s sqrt(1-abar_t) grad log p(k | x_t), with --guidance-classifier, a
noisy-classifier checkpoint, else the shipped one) or classifier-free guidance ((1+w) eps(x_t, k)
- w eps(x_t), a ddpm trained conditional).`,
		Example: `  genmodel sample --model vae --out vae.png
  genmodel sample --model ddpm --steps 1000 --n 16 --pretrained
  genmodel sample --pretrained=ddpm-conditional --guidance cfg --class 3
  genmodel sample --model vae --checkpoint runs/vae --n 64 --out vae.png
  genmodel sample --model vae --checkpoint runs/vae --n 1000 --out-dir vae-samples
  genmodel sample --model vae --checkpoint runs/vae --kind interp --n 10 --out interp.png
  genmodel sample --model gan --checkpoint runs/cgan --class 7 --n 64 --out sevens.png
  genmodel sample --model dcgan --checkpoint runs/infogan --code 3 --n 64 --out code3.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --steps 1000 --out ddpm.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --steps 50 --kind trajectory --n 8 --out reverse.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --kind forward --n 8 --out forward.png
  genmodel sample --model ddpm --checkpoint runs/ddpm --guidance classifier --guidance-classifier runs/noisy-classifier --class 3 --scale 2
  genmodel sample --model ddpm --checkpoint runs/cddpm --guidance cfg --class 3 --scale 3
  genmodel sample --model realnvp --checkpoint runs/realnvp --temperature 0.7 --out realnvp-t07.png
  genmodel sample --model glow --checkpoint runs/glow --kind temperatures --n 48 --out glow-temperatures.png
  genmodel sample --model ssvae --checkpoint runs/ssvae --kind analogies --n 10 --out analogies.png
  genmodel sample --model pixelcnn --checkpoint runs/cpixelcnn --class 5 --n 20 --out fives.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.fill(cmd, &o.DrawFlags); err != nil {
				return err
			}
			if term.IsTerminal(int(os.Stderr.Fd())) {
				o.Progress = cmd.ErrOrStderr() // a bar over the reverse steps; none in logs
			}
			return app.Sample(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	flags = addDrawFlags(f, &o.DrawFlags, "seed of the sampling noise", "data.dir=PATH")
	// The flag's old name, kept working for a while.
	if p := flags.deps["guidance-classifier"]; p != nil {
		f.StringVar(p, "classifier", "", "")
		f.MarkDeprecated("classifier", "use --guidance-classifier")
	}
	f.StringVar(&o.Kind, "kind", "", "picture kind (default: the model's first, prior)")
	f.IntVar(&o.N, "n", 0, fmt.Sprintf("number of images (interp: steps; trajectory and forward: rows, 8 unless given) (default %d)", app.DefaultN))
	f.StringVar(&o.Out, "out", "", "grid PNG to write (default MODEL-KIND.png)")
	f.StringVar(&o.OutDir, "out-dir", "", "write N single PNGs into this folder instead")
	f.IntVar(&o.Request.Class, "class", -1, "digit to draw, for a class-conditional or guided model")
	f.IntVar(&o.Request.Code, "code", -1, "dcgan trained with info_codes: draw this InfoGAN code only (default: the codes in turn, one per column)")
	return cmd
}
