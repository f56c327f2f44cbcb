package main

import (
	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/app"
)

func newRunCmd() *cobra.Command {
	var o app.RunOptions
	cmd := &cobra.Command{
		Use:   "run EXPERIMENT.yaml [--jobs N]",
		Short: "Train and compare the runs of an experiment file",
		Long: `Train and evaluate every run of an experiment file, each in its own folder
under the experiment's folder with its resolved config, then print the
comparison table (also written as compare.md, compare.csv and compare.json).

An experiment names a model, optional overrides for every run (set), and
either a grid over config keys (every combination is a run) or a list of
named variants; eval.n samples of each run are scored. Running the same
command again skips finished runs and resumes stopped ones, so a sweep
survives Ctrl-C or a reboot. Unknown keys, empty grids and run folders of
another model are errors before anything trains.

  model: vae
  set: {train.epochs: 3}
  grid:
    vae.beta: [0.5, 1, 4]
    vae.latent_dim: [2, 20]
  eval: {n: 1000}`,
		Example: `  genmodel run experiments/vae-sweep.yaml
  genmodel run experiments/vae-sweep.yaml --jobs 2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return app.RunExperiment(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVar(&o.Jobs, "jobs", 1, "runs trained at once")
	return cmd
}

func newCompareCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "compare RUN_OR_EXPERIMENT... [--out DIR]",
		Short: "Tabulate runs: losses, evaluator figures, likelihood, speed, wall time",
		Long: `Print one Markdown table of runs (run folders, or experiment folders whose
subfolders are runs) and write it as compare.md, compare.csv and compare.json
to --out: the final epoch's losses, the figures of the run's eval.json (FID,
classes, precision, recall, the likelihood where the model has one: flows'
bits/dim, the VAE's IWAE bound in nats), training and sampling images/s and
the training wall time.`,
		Example: `  genmodel compare runs/vae-sweep
  genmodel compare runs/vae runs/gan --out comparison`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := out
			if dir == "" {
				dir = args[0]
			}
			return app.Compare(args, dir, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for compare.md/.csv/.json (default: the first argument)")
	return cmd
}
