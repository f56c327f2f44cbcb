package experiment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/config"
)

// ErrInterrupted reports that runs were stopped before finishing; running
// the same experiment again continues them.
var ErrInterrupted = errors.New("interrupted: run the same command again to continue (finished runs are kept, stopped ones resume)")

// Runner trains and evaluates an experiment's runs, each as a child
// genmodel process (its own checkpoints, its own Ctrl-C handling), at most
// Jobs at a time.
type Runner struct {
	Jobs int
	// Command builds the command running genmodel with args; nil runs this
	// executable.
	Command func(args ...string) (*exec.Cmd, error)
	Log     io.Writer
	// SignalledTogether says the children receive the runner's signals
	// themselves, as every process of a Slurm task does on scancel, so the
	// runner must not pass one on: a second signal kills a trainer before
	// it saves its checkpoint.
	SignalledTogether bool
}

// state is where a run stands.
type state int

const (
	fresh    state = iota
	stopped        // a checkpoint, no eval.json: resume
	finished       // eval.json written
)

func runState(r Run) (state, error) {
	if _, err := os.Stat(filepath.Join(r.Dir, "eval.json")); err == nil {
		return finished, nil
	}
	cfg := filepath.Join(r.Dir, "config.yaml")
	if _, err := os.Stat(cfg); err != nil {
		return fresh, nil
	}
	model, err := config.FileModel(cfg)
	if err != nil {
		return 0, err
	}
	if model != r.Model {
		return 0, fmt.Errorf("%s holds a %s run, not %s: remove it or change the experiment's out", r.Dir, model, r.Model)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "checkpoints", "latest")); err != nil {
		return fresh, nil // the config was written, no step finished: start again
	}
	return stopped, nil
}

// Run runs every unfinished run; it checks all runs' folders before any trains.
func (rn *Runner) Run(ctx context.Context, spec *Spec, runs []Run) error {
	states := make([]state, len(runs))
	for i, r := range runs {
		s, err := runState(r)
		if err != nil {
			return err
		}
		states[i] = s
	}
	jobs := max(1, rn.Jobs)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if rn.Log != nil {
			fmt.Fprintf(rn.Log, format+"\n", args...)
		}
	}
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					// The dispatcher may have handed this run over just
					// before the interrupt: leave it for the next command.
					continue
				}
				err := rn.one(ctx, spec, runs[i], states[i], fmt.Sprintf("[%d/%d]", i+1, len(runs)), logf)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range runs {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil && (firstErr == nil || errors.Is(firstErr, ErrInterrupted)) {
		return ErrInterrupted
	}
	return firstErr
}

// one trains (or resumes) and evaluates one run.
func (rn *Runner) one(ctx context.Context, spec *Spec, r Run, s state, tag string, logf func(string, ...any)) error {
	if s == finished {
		logf("%s %s: finished, skipped", tag, r.Name)
		return nil
	}
	start := time.Now()
	args := []string{"train", "--out", r.Dir, "--quiet"}
	if s == stopped {
		logf("%s %s: resuming", tag, r.Name)
		args = append(args, "--resume")
	} else {
		logf("%s %s: training %s", tag, r.Name, r.Model)
		args = append(args, "--model", r.Model)
		if r.Config != "" {
			args = append(args, "--config", r.Config)
		}
		for _, o := range r.Overrides {
			args = append(args, "--set", o.Key+"="+o.Value)
		}
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(r.Dir, "train.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if err := rn.exec(ctx, args, logFile, logFile); err != nil {
		if ctx.Err() != nil || interrupted(err) {
			logf("%s %s: stopped (checkpoint saved)", tag, r.Name)
			return ErrInterrupted
		}
		return fmt.Errorf("run %s: training failed (%v); see %s", r.Name, err, filepath.Join(r.Dir, "train.log"))
	}
	evalArgs := append([]string{"eval", "--checkpoint", r.Dir, "--json", "--n", strconv.Itoa(spec.Eval.N)}, r.EvalArgs...)
	var out bytes.Buffer
	if err := rn.exec(ctx, evalArgs, &out, logFile); err != nil {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		return fmt.Errorf("run %s: eval failed (%v); see %s", r.Name, err, filepath.Join(r.Dir, "train.log"))
	}
	if err := atomicfile.WriteBytes(filepath.Join(r.Dir, "eval.json"), out.Bytes()); err != nil {
		return err
	}
	logf("%s %s: done in %s", tag, r.Name, time.Since(start).Round(time.Second))
	return nil
}

// interrupted reports a child that exited as an interrupted genmodel does
// (status 130, checkpoint saved): its signal may arrive before the
// runner's own.
func interrupted(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 130
}

// exec runs genmodel with args; on ctx's cancellation it sends the child
// SIGINT, which makes it save a checkpoint, and waits for it.
func (rn *Runner) exec(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cmd *exec.Cmd
	if rn.Command != nil {
		var err error
		if cmd, err = rn.Command(args...); err != nil {
			return err
		}
	} else {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd = exec.Command(self, args...)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = ownGroup()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if !rn.SignalledTogether {
			_ = cmd.Process.Signal(os.Interrupt)
		}
		err := <-done
		if err == nil {
			return nil // it finished before the signal arrived
		}
		return err
	}
}
