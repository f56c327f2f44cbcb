package main

import (
	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/app"
)

func newEvalCmd() *cobra.Command {
	var (
		o     app.EvalOptions
		flags *drawFlags
	)
	cmd := &cobra.Command{
		Use:   "eval (--model M | --checkpoint PATH | --images PATH) [flags]",
		Short: "Measure a trained model or a set of images",
		Long: `Measure a trained model, or a set of generated images, against MNIST.

With --model M alone the weights are the latest checkpoint in runs/M, else
those of M that ship in the binary (--pretrained: always those); the first
line, "using", says which.

With a model: its own test-set figures (VAE: reconstruction loss,
KL and their sum per test image, one posterior sample each, and with the
Bernoulli decoder the IWAE bound in nats; classifier: test accuracy; SSVAE:
the test error of q(y|x) and the bounds -U(x) and -L(x, y); PixelCNN: the
exact test NLL in nats and bits/dim), then for
a generative model the evaluator's figures of --n samples and the sampling
speed.

With --images (a folder of PNG/JPEG images, or one PNG grid with 28x28 tiles
and 2-pixel padding): the evaluator's figures alone.

The evaluator works in the features of genmodel's MNIST classifier (embedded
in the binary; --feature-net for another): FID against the MNIST test set (or
--ref FOLDER), class coverage (histogram, classes present, entropy, mean
top-class probability, classifier score) and precision/recall
(Kynkaanniemi et al. 2019, k=3). FID depends on the number of images: compare
figures at equal --n only.`,
		Example: `  genmodel eval --model vae --n 1000
  genmodel eval --model vae --checkpoint runs/vae
  genmodel eval --model vae --checkpoint runs/vae --n 1000 --json
  genmodel eval --model ddpm --checkpoint runs/ddpm --n 500 --steps 100
  genmodel eval --model ddpm --checkpoint runs/ddpm --n 0 --metrics nll
  genmodel eval --model ddpm --n 0 --metrics nll --nll-images 10000 --nll-timesteps 50
  genmodel eval --model ssvae --checkpoint runs/ssvae --n 0
  genmodel eval --model pixelcnn --checkpoint runs/pixelcnn --n 0
  genmodel eval --images samples/
  genmodel eval --images grid.png --ref my-reference-digits/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.fill(cmd, &o.DrawFlags); err != nil {
				return err
			}
			return app.Eval(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	flags = addDrawFlags(f, &o.DrawFlags, "seed of the evaluation noise and reference draw", "eval.iwae_k=1000")
	f.StringVar(&o.Images, "images", "", "measure these images (folder or PNG grid) instead of a model")
	f.StringVar(&o.Ref, "ref", "", "reference folder of images instead of the MNIST test set")
	f.StringVar(&o.FeatureNet, "feature-net", "", "the evaluator's feature network, a classifier checkpoint (default: the embedded one)")
	f.StringVar(&o.FeatureNet, "classifier", "", "") // the old name, kept working for a while
	f.MarkDeprecated("classifier", "use --feature-net (--guidance-classifier for classifier guidance)")
	f.IntVar(&o.N, "n", 1000, "images to sample from a generative model (0: none)")
	f.IntVar(&o.K, "k", 3, "neighbourhood size of precision/recall")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	f.StringSliceVar(&o.Metrics, "metrics", nil, "extra measurements: nll (a diffusion model's variational bound in bits/dim)")
	f.IntVar(&o.NLLImages, "nll-images", 100, "test images of --metrics nll (each costs T network evaluations, in batches of 100)")
	f.IntVar(&o.NLLTimesteps, "nll-timesteps", 0, "estimate --metrics nll's middle terms from this many stratified timesteps per image (unbiased; 0: all T)")
	return cmd
}
