package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/experiment"
	"github.com/genmodel/genmodel/internal/plots"
)

// RunOptions are the inputs of `genmodel run`.
type RunOptions struct {
	File string
	Jobs int
	// Executor is where runs train: "local" (child processes here, Jobs at
	// a time) or "slurm" (one sbatch job array).
	Executor string
	Slurm    experiment.SlurmOptions
	// Detach returns once the job is submitted instead of waiting for it.
	Detach bool
	// Poll is how often squeue is asked while waiting (0: 10 s).
	Poll time.Duration
	// Emit writes the batch script to this file instead of submitting it.
	Emit string
	// Status reports where each run stands and trains nothing.
	Status bool
	// SlurmTask runs the one run of this name, as a Slurm array task.
	SlurmTask string
	// Only limits training (or submitting, or the status report) to the
	// runs of these names; the comparison table still covers every run of
	// the experiment that has a folder.
	Only []string
	// Command runs genmodel as a child (nil: this executable); tests set it.
	Command func(args ...string) (*exec.Cmd, error)
	// Binary is the genmodel that Slurm tasks run (default: this one).
	Binary string
	// SlurmCommand runs sbatch and squeue (nil: the programs); tests set it.
	SlurmCommand func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// RunExperiment trains and evaluates the runs of an experiment file that
// are not finished, then writes the comparison table into its folder and
// prints it.
func RunExperiment(ctx context.Context, o RunOptions, stdout io.Writer) error {
	spec, runs, err := experiment.Load(o.File)
	if err != nil {
		return err
	}
	if o.Jobs < 1 {
		return fmt.Errorf("--jobs must be at least 1, got %d", o.Jobs)
	}
	if o.Executor != "slurm" && o.Emit == "" && o.SlurmTask == "" && !o.Status {
		for _, f := range []struct {
			set  bool
			flag string
		}{{o.Detach, "--detach"}, {o.Slurm.Partition != "", "--partition"}, {o.Slurm.Time != "", "--time"},
			{o.Slurm.CPUsPerTask != 0, "--cpus-per-task"}, {len(o.Slurm.SbatchArgs) > 0, "--sbatch-arg"}} {
			if f.set {
				return fmt.Errorf("%s is a Slurm option: add --executor slurm (or --emit FILE)", f.flag)
			}
		}
	}
	all := runs
	if o.SlurmTask == "" {
		if runs, err = onlyRuns(o.File, runs, o.Only); err != nil {
			return err
		}
	}
	switch {
	case o.Status:
		return printStatus(ctx, o, spec, runs, stdout)
	case o.SlurmTask != "":
		return runSlurmTask(ctx, o, spec, runs, stdout)
	case o.Emit != "":
		return emitScript(o, spec, runs, stdout)
	case o.Executor == "slurm":
		return runOnSlurm(ctx, o, spec, runs, all, stdout)
	case o.Executor != "" && o.Executor != "local":
		return fmt.Errorf("--executor %q: choose local or slurm", o.Executor)
	}
	fmt.Fprintf(stdout, "experiment %s: %d runs in %s, %d at a time\n", o.File, len(runs), spec.Out, o.Jobs)
	rn := &experiment.Runner{Jobs: o.Jobs, Command: o.Command, Log: stdout}
	if err := rn.Run(ctx, spec, runs); err != nil {
		return err
	}
	return compareExperiment(spec, all, stdout)
}

// compareExperiment writes the comparison table of the experiment's runs
// that have a folder: what the folder holds, so that training some runs
// with --only does not drop the others' rows from compare.md.
func compareExperiment(spec *experiment.Spec, runs []experiment.Run, stdout io.Writer) error {
	var dirs []string
	for _, r := range runs {
		if _, err := os.Stat(r.Dir); err == nil {
			dirs = append(dirs, r.Dir)
		}
	}
	return Compare(dirs, spec.Out, stdout)
}

// onlyRuns returns the runs named in only (all of them when only is
// empty), in the experiment's order; a name the experiment does not have
// is an error that lists the names it has.
func onlyRuns(file string, runs []experiment.Run, only []string) ([]experiment.Run, error) {
	if len(only) == 0 {
		return runs, nil
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	for _, name := range only {
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("--only %s: %s has no run of that name; its runs are %s", name, file, strings.Join(names, ", "))
		}
	}
	var out []experiment.Run
	for _, r := range runs {
		if slices.Contains(only, r.Name) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Compare prints the comparison table of runs (or experiment folders) as
// Markdown and writes compare.md, compare.csv and compare.json into out.
func Compare(paths []string, out string, stdout io.Writer) error {
	if len(paths) == 0 {
		return fmt.Errorf("nothing to compare: name run folders or experiment folders")
	}
	rows, err := experiment.Collect(paths)
	if err != nil {
		return err
	}
	var md, csv, js bytes.Buffer
	for _, w := range []struct {
		buf   *bytes.Buffer
		write func(io.Writer, []experiment.Row) error
	}{{&md, experiment.Markdown}, {&csv, experiment.CSV}, {&js, experiment.JSON}} {
		if err := w.write(w.buf, rows); err != nil {
			return err
		}
	}
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"compare.md": md.Bytes(), "compare.csv": csv.Bytes(), "compare.json": js.Bytes()} {
		if err := atomicfile.WriteBytes(filepath.Join(out, name), b); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote compare.md, compare.csv and compare.json to %s\n", out)
	var seed bytes.Buffer
	if ok, err := experiment.SeedTables(&seed, rows); err != nil {
		return err
	} else if ok {
		if err := atomicfile.WriteBytes(filepath.Join(out, "seed-tables.md"), seed.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%s\nwrote seed-tables.md to %s\n", seed.String(), out)
		if err := experiment.SamplesPicture(filepath.Join(out, "samples.png"), rows); err != nil {
			fmt.Fprintf(stdout, "samples.png not written: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "wrote samples.png (each run's last sample grid, in table order)\n")
		}
	}
	// One overlay of the runs' main training curve.
	runs := map[string]string{}
	for _, r := range rows {
		runs[r.Run] = filepath.Join(r.Dir, "metrics.jsonl")
	}
	for _, metric := range []string{"loss", "bits_per_dim", "loss_d"} {
		if err := plots.WriteOverlay(filepath.Join(out, "compare.png"), metric, runs); err == nil {
			fmt.Fprintf(stdout, "wrote compare.png (%s by run)\n", metric)
			break
		}
	}
	return nil
}
