package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/app"
)

func newRunCmd() *cobra.Command {
	var o app.RunOptions
	cmd := &cobra.Command{
		Use:   "run EXPERIMENT.yaml [--jobs N | --executor slurm [flags]]",
		Short: "Train and compare the runs of an experiment file",
		Long: `Train and evaluate every run of an experiment file, each in its own folder
under the experiment's folder with its resolved config, then print the
comparison table (also written as compare.md, compare.csv and compare.json).

An experiment names a model, optional overrides for every run (set), and
either a grid over config keys (every combination is a run) or a list of
named variants; eval.n samples of each run are scored. Running the same
command again skips finished runs and resumes stopped ones, so a sweep
survives Ctrl-C or a reboot; --only trains some runs by name. Unknown keys,
empty grids and run folders of another model are errors before anything
trains.

  model: vae
  set: {train.epochs: 3}
  grid:
    vae.beta: [0.5, 1, 4]
    vae.latent_dim: [2, 20]
  eval: {n: 1000}

With --executor slurm the runs go to Slurm as one sbatch job array, a task
per run, on a filesystem the cluster's nodes share: each task trains and
evaluates its run into the experiment's folder by the same rules (finished
runs skipped, stopped ones resumed), writing its log and a record of how it
ended under the folder's slurm/. The command waits, showing each run's
state (done, running, pending, failed) until the queue is empty, then prints
the table; --detach returns after submitting. Running it again submits only
the runs that are neither done nor queued. --status reports on the runs of
either executor; --emit writes the batch script for sbatch by hand.`,
		Example: `  genmodel run experiments/vae-sweep.yaml
  genmodel run experiments/vae-sweep.yaml --jobs 2
  genmodel run experiments/pretrained.yaml --only glow
  genmodel run experiments/vae-sweep.yaml --executor slurm --partition cpu --time 2:00:00 --cpus-per-task 2
  genmodel run experiments/vae-sweep.yaml --executor slurm --sbatch-arg=--mem=8G --detach
  genmodel run experiments/vae-sweep.yaml --status
  genmodel run experiments/vae-sweep.yaml --emit vae-sweep.sbatch`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return app.RunExperiment(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Jobs, "jobs", 1, "runs trained at once (local executor)")
	f.StringVar(&o.Executor, "executor", "local", "where runs train: local or slurm")
	f.StringVar(&o.Slurm.Partition, "partition", "", "Slurm partition (sbatch --partition)")
	f.StringVar(&o.Slurm.Time, "time", "", "Slurm time limit per run (sbatch --time), e.g. 2:00:00")
	f.IntVar(&o.Slurm.CPUsPerTask, "cpus-per-task", 0, "cores per run (sbatch --cpus-per-task; also Go's GOMAXPROCS)")
	f.StringArrayVar(&o.Slurm.SbatchArgs, "sbatch-arg", nil, "another sbatch option for the batch script, e.g. --sbatch-arg=--mem=8G (repeatable)")
	f.BoolVar(&o.Detach, "detach", false, "return once the job is submitted")
	f.DurationVar(&o.Poll, "poll", 10*time.Second, "how often to ask squeue while waiting")
	f.StringVar(&o.Emit, "emit", "", "write the batch script of the unfinished runs to `FILE` instead of submitting it")
	f.BoolVar(&o.Status, "status", false, "report where each run stands (done, running, pending, failed) and train nothing")
	f.StringArrayVar(&o.Only, "only", nil, "train (or submit, or report on) only the run of this `NAME` (repeatable); the table keeps every run already in the folder")
	f.StringVar(&o.SlurmTask, "slurm-task", "", "run the one run of this name (inside a Slurm array task)")
	_ = f.MarkHidden("slurm-task")
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
