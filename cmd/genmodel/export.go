package main

import (
	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/app"
)

func newExportCmd() *cobra.Command {
	var (
		o    app.ExportOptions
		sets []string
	)
	cmd := &cobra.Command{
		Use:   "export --checkpoint PATH --out FILE [flags]",
		Short: "Write a trained model's sampling weights into one file",
		Long: `Write what sampling and evaluation need of a trained model into one
safetensors file: no optimizer state, and for a model that keeps a weight
average (ddpm, GANs with ema_decay) the average in place of the raw weights.
The saved config travels inside, so the file works with --checkpoint like
any checkpoint. This is how checkpoints/ is made (make pretrained).
--set changes a key of the config the file carries, for settings of
sampling only (vqvae.prior, say): the tensors must still fit the model.`,
		Example: `  genmodel export --checkpoint runs/ddpm --out checkpoints/ddpm.safetensors
  genmodel export --checkpoint runs/dcgan --out checkpoints/dcgan.safetensors --dtype f16
  genmodel export --checkpoint runs/vqvae --out vqvae.safetensors --set vqvae.prior=pixelcnn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Overrides, err = parseSets(sets); err != nil {
				return err
			}
			return app.Export(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model of the checkpoint (checked against it; optional)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint file or run folder")
	f.StringVar(&o.Out, "out", "", "the file to write")
	f.StringArrayVar(&sets, "set", nil, "change a key of the config the file carries, e.g. --set vqvae.prior=pixelcnn (repeatable)")
	f.StringVar(&o.DType, "dtype", "f32", "f32, or f16 / bf16 for tensors of 4096 values or more (halves the file; biases and norms stay f32)")
	return cmd
}
