package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/experiment"
)

// slurmFor is the Slurm executor of an experiment run by this binary.
func slurmFor(o RunOptions) (*experiment.Slurm, error) {
	bin := o.Binary
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		bin = self
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real
	}
	file, err := filepath.Abs(o.File)
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return &experiment.Slurm{SlurmOptions: o.Slurm, Binary: bin, File: file, WorkDir: wd, Command: o.SlurmCommand}, nil
}

// experimentStatus tells where every run stands; squeue is asked only when
// the experiment was ever submitted.
func experimentStatus(ctx context.Context, s *experiment.Slurm, spec *experiment.Spec, runs []experiment.Run) ([]experiment.RunStatus, error) {
	subs, err := experiment.Submissions(spec)
	if err != nil {
		return nil, err
	}
	var queue map[string]string
	if len(subs) > 0 {
		if queue, err = s.Queue(ctx); err != nil {
			return nil, fmt.Errorf("%w; without the queue the state of submitted runs is unknown", err)
		}
	}
	return experiment.Status(spec, runs, subs, queue)
}

// slurmStatus is the Slurm executor of o and where every run stands.
func slurmStatus(ctx context.Context, o RunOptions, spec *experiment.Spec, runs []experiment.Run) (*experiment.Slurm, []experiment.RunStatus, error) {
	s, err := slurmFor(o)
	if err != nil {
		return nil, nil, err
	}
	sts, err := experimentStatus(ctx, s, spec, runs)
	return s, sts, err
}

// printStatus is `genmodel run FILE --status`.
func printStatus(ctx context.Context, o RunOptions, spec *experiment.Spec, runs []experiment.Run, stdout io.Writer) error {
	_, sts, err := slurmStatus(ctx, o, spec, runs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "experiment %s (%s):\n", o.File, spec.Out)
	if err := experiment.WriteStatus(stdout, sts); err != nil {
		return err
	}
	for _, st := range sts {
		if st.Phase == experiment.Failed {
			reportFailure(stdout, st)
		}
	}
	return nil
}

// runSlurmTask is one array task: it trains and evaluates one run with the
// local runner's rules and records how that went beside its log.
func runSlurmTask(ctx context.Context, o RunOptions, spec *experiment.Spec, runs []experiment.Run, stdout io.Writer) error {
	job, index := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID")
	if job == "" || index == "" {
		return errors.New("--slurm-task runs inside a Slurm array task (SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID unset); use --executor slurm to submit")
	}
	var run *experiment.Run
	for i := range runs {
		if runs[i].Name == o.SlurmTask {
			run = &runs[i]
		}
	}
	if run == nil {
		return fmt.Errorf("%s has no run named %s: was the experiment file changed after submitting? run it again to resubmit", o.File, o.SlurmTask)
	}
	task := job + "_" + index
	record := func(state experiment.TaskState, err error) error {
		rec := experiment.TaskRecord{Run: run.Name, State: state}
		if err != nil {
			rec.Error = err.Error()
		}
		return experiment.WriteTaskRecord(spec, task, rec)
	}
	if err := record(experiment.TaskRunning, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "slurm task %s: run %s of %s\n", task, run.Name, o.File)
	rn := &experiment.Runner{Jobs: 1, Command: o.Command, Log: stdout, SignalledTogether: true}
	err := rn.Run(ctx, spec, []experiment.Run{*run})
	state := experiment.TaskDone
	switch {
	case errors.Is(err, experiment.ErrInterrupted):
		state = experiment.TaskStopped
	case err != nil:
		state = experiment.TaskFailed
	}
	if rerr := record(state, err); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// emitScript writes the batch script of the unfinished runs without
// submitting it.
func emitScript(o RunOptions, spec *experiment.Spec, runs []experiment.Run, stdout io.Writer) error {
	s, err := slurmFor(o)
	if err != nil {
		return err
	}
	sts, err := experiment.Status(spec, runs, nil, nil)
	if err != nil {
		return err
	}
	var todo []int
	for i, st := range sts {
		if st.Phase != experiment.Done {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return fmt.Errorf("every run of %s is done: no script to write", o.File)
	}
	script, err := s.Script(spec, runs, todo)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(experiment.SlurmDir(spec), 0o755); err != nil {
		return err // the script's --output points there
	}
	if err := atomicfile.WriteBytes(o.Emit, script); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: `sbatch %s` runs %d of %d runs (logs in %s); `genmodel run %s --status` reports on them\n",
		o.Emit, o.Emit, len(todo), len(runs), experiment.SlurmDir(spec), o.File)
	return nil
}

// runOnSlurm submits those of runs that are neither done nor queued as one
// job array, then waits for the queue to empty (unless Detach), showing
// each run's changes and the counts, and ends with the comparison table of
// all, the experiment's every run.
func runOnSlurm(ctx context.Context, o RunOptions, spec *experiment.Spec, runs, all []experiment.Run, stdout io.Writer) error {
	s, sts, err := slurmStatus(ctx, o, spec, runs)
	if err != nil {
		return err
	}
	var todo []int
	queued := 0
	for i, st := range sts {
		switch {
		case st.Phase == experiment.Done:
		case st.Queued():
			queued++
		case st.Phase == experiment.Running:
			return fmt.Errorf("run %s is being trained on this machine now (%s is locked); wait for it to end", st.Name, runs[i].Dir)
		default:
			todo = append(todo, i)
		}
	}
	fmt.Fprintf(stdout, "experiment %s: %d runs in %s on Slurm\n", o.File, len(runs), spec.Out)
	if len(todo) > 0 {
		sub, err := s.Submit(ctx, spec, runs, todo)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "submitted job %s: %d runs, array tasks %s; logs in %s\n",
			sub.Job, len(todo), experiment.ArraySpec(todo), experiment.SlurmDir(spec))
	} else {
		fmt.Fprintf(stdout, "nothing to submit: %d done, %d still queued\n", len(runs)-queued, queued)
	}
	if o.Detach {
		fmt.Fprintf(stdout, "detached: `genmodel run %s --status` reports on the runs, and the same command without --detach waits for them\n", o.File)
		return nil
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 10 * time.Second
	}
	last := map[string]experiment.Phase{}
	lastSummary := ""
	for {
		if sts, err = experimentStatus(ctx, s, spec, runs); err != nil {
			return err
		}
		waiting := false
		for i, st := range sts {
			if last[st.Name] != st.Phase {
				fmt.Fprintf(stdout, "[%d/%d] %s: %s%s\n", i+1, len(runs), st.Name, st.Phase, taskNote(st))
				last[st.Name] = st.Phase
			}
			waiting = waiting || st.Queued()
		}
		if sum := experiment.Summary(sts); sum != lastSummary {
			fmt.Fprintln(stdout, sum)
			lastSummary = sum
		}
		if !waiting {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "stopped waiting; the Slurm tasks go on: `genmodel run %s --status` reports on them, scancel cancels them\n", o.File)
			return experiment.ErrInterrupted
		case <-time.After(poll):
		}
	}
	failed := 0
	for _, st := range sts {
		if st.Phase != experiment.Done {
			failed++
			reportFailure(stdout, st)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs did not finish; run the same command again to resubmit only those (stopped runs resume from their checkpoints)", failed, len(runs))
	}
	return compareExperiment(spec, all, stdout)
}

func taskNote(st experiment.RunStatus) string {
	var parts []string
	if st.Task != "" {
		parts = append(parts, "task "+st.Task)
	}
	if st.Detail != "" && st.Phase != experiment.Failed {
		parts = append(parts, st.Detail)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// reportFailure prints why a run did not finish and the end of its log.
func reportFailure(w io.Writer, st experiment.RunStatus) {
	fmt.Fprintf(w, "run %s %s", st.Name, st.Phase)
	if st.Task != "" {
		fmt.Fprintf(w, " (task %s)", st.Task)
	}
	if st.Detail != "" {
		fmt.Fprintf(w, ": %s", st.Detail)
	}
	fmt.Fprintln(w)
	if tail := experiment.LogTail(st.Log, 10); tail != "" {
		fmt.Fprintf(w, "  the end of %s:\n", st.Log)
		for _, line := range strings.Split(tail, "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
}
