package main

import (
	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/app"
)

func newEvalCmd() *cobra.Command {
	var (
		o    app.EvalOptions
		sets []string
	)
	cmd := &cobra.Command{
		Use:   "eval --checkpoint PATH [flags]",
		Short: "Score a trained model on the test set",
		Long: `Score a trained model on the MNIST test set (or its image folder).

For the VAE: reconstruction loss, KL and their sum per test image with one
posterior sample each (the PyTorch reference's test loss), and with the
Bernoulli decoder the IWAE bound on the negative log-likelihood in nats
(eval.iwae_k importance samples, default 100).`,
		Example: `  genmodel eval --model vae --checkpoint runs/vae
  genmodel eval --checkpoint runs/vae/checkpoints/step-00004680.safetensors --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Overrides, err = parseSets(sets); err != nil {
				return err
			}
			return app.Eval(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model of the checkpoint (checked against it; optional)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint file or run folder")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	f.Uint64Var(&o.Seed, "seed", 0, "seed of the evaluation noise")
	f.StringArrayVar(&sets, "set", nil, "override a saved config key, e.g. --set eval.iwae_k=1000")
	return cmd
}
