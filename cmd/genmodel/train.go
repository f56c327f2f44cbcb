package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/app"
	"github.com/genmodel/genmodel/internal/config"
)

func newTrainCmd() *cobra.Command {
	var (
		o      app.TrainOptions
		sets   []string
		epochs int
		batch  int
		lr     float64
		seed   uint64
	)
	cmd := &cobra.Command{
		Use:   "train --model MODEL [flags]",
		Short: "Train a model",
		Long: `Train a model on MNIST (found through the Go module cache) or a folder of images.

The configuration is the model's embedded default, then --config FILE, then
flags and --set key=value, later ones winning. The run folder (--out, default
runs/MODEL) receives config.yaml (the resolved configuration), metrics.jsonl,
samples/epoch-NNN.png after each epoch and checkpoints/ (safetensors). Ctrl-C
saves a checkpoint before exiting; --resume continues exactly where it stopped.`,
		Example: `  genmodel train --model vae
  genmodel train --model vae --epochs 3 --set vae.latent_dim=2 --out runs/vae-2d
  genmodel train --model vae --set vae.decoder=bernoulli --set data.binarize=true
  genmodel train --config runs/vae/config.yaml --out runs/vae-again
  genmodel train --out runs/vae --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			overrides, err := parseSets(sets)
			if err != nil {
				return err
			}
			// Flags beat --set, whatever their order on the command line.
			f := cmd.Flags()
			for _, fl := range []struct{ flag, key, value string }{
				{"epochs", "train.epochs", strconv.Itoa(epochs)},
				{"batch-size", "train.batch_size", strconv.Itoa(batch)},
				{"lr", "train.lr", strconv.FormatFloat(lr, 'g', -1, 64)},
				{"seed", "seed", strconv.FormatUint(seed, 10)},
			} {
				if f.Changed(fl.flag) {
					overrides = append(overrides, config.Override{Key: fl.key, Value: fl.value, Source: "flag --" + fl.flag})
				}
			}
			o.Overrides = overrides
			o.Terminal = stdoutIsTerminal()
			_, err = app.Train(cmd.Context(), o, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model to train (see 'genmodel models')")
	f.StringVar(&o.ConfigPath, "config", "", "YAML file over the model's defaults")
	f.StringVar(&o.OutDir, "out", "", "run folder (default runs/MODEL)")
	f.IntVar(&epochs, "epochs", 0, "train.epochs")
	f.IntVar(&batch, "batch-size", 0, "train.batch_size")
	f.Float64Var(&lr, "lr", 0, "train.lr (Adam learning rate)")
	f.Uint64Var(&seed, "seed", 0, "seed of initialization, data order and noise")
	f.StringArrayVar(&sets, "set", nil, "override one config key, e.g. --set vae.beta=4 (repeatable)")
	f.BoolVar(&o.Resume, "resume", false, "continue the run in --out from its latest checkpoint")
	f.BoolVar(&o.Quiet, "quiet", false, "print nothing but errors")
	return cmd
}
