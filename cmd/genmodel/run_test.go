package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const sweepYAML = `model: vae
set:
  train.epochs: 3
  data.limit: 3840
  train.log_every: 1
  train.sample_count: 4
grid:
  vae.beta: [0.5, 4]
  vae.latent_dim: [2, 20]
eval:
  n: 0
out: OUT
`

func writeSweep(t *testing.T, dir, out string) string {
	t.Helper()
	path := filepath.Join(dir, filepath.Base(out)+".yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(sweepYAML, "OUT", out, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSweepSurvivesInterrupt runs a 2x2 VAE sweep (beta x latent_dim, 3
// epochs each) once straight through and once stopped with SIGINT in the
// middle of its second run and started again: the second ends with exactly
// the four runs, each with the bit-identical final weights and optimizer
// state of the first.
func TestSweepSurvivesInterrupt(t *testing.T) {
	dir := t.TempDir()
	whole, split := filepath.Join(dir, "whole"), filepath.Join(dir, "split")
	if out, err := genmodel("run", writeSweep(t, dir, whole)).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted sweep: %v\n%s", err, out)
	}

	file := writeSweep(t, dir, split)
	cmd := genmodel("run", file)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(split, "vae.beta=0.5,vae.latent_dim=20", "metrics.jsonl")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if b, err := os.ReadFile(second); err == nil && bytes.Count(b, []byte("\n")) >= 3 {
			break // the second run is a few steps in
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the second run never started:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("interrupted sweep: exit %v, want 130\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "run the same command again") {
		t.Errorf("no hint how to continue:\n%s", out.String())
	}
	if res, err := genmodel("run", file).CombinedOutput(); err != nil {
		t.Fatalf("restarted sweep: %v\n%s", err, res)
	} else if !strings.Contains(string(res), "finished, skipped") || !strings.Contains(string(res), "resuming") {
		t.Errorf("the restart neither skipped the finished run nor resumed the stopped one:\n%s", res)
	}

	entries, err := os.ReadDir(split)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, e := range entries {
		if e.IsDir() {
			runs = append(runs, e.Name())
		}
	}
	if len(runs) != 4 {
		t.Fatalf("%d run folders after the restart, want 4: %v", len(runs), runs)
	}
	for _, r := range runs {
		for _, suffix := range []string{".safetensors", ".optim.safetensors"} {
			a, b := lastCheckpoint(t, filepath.Join(whole, r), suffix), lastCheckpoint(t, filepath.Join(split, r), suffix)
			if !bytes.Equal(a, b) {
				t.Errorf("%s: the final %s differs from the uninterrupted sweep's", r, suffix)
			}
		}
	}
}

// lastCheckpoint reads a run's latest checkpoint file with the suffix.
func lastCheckpoint(t *testing.T, run, suffix string) []byte {
	t.Helper()
	name, err := os.ReadFile(filepath.Join(run, "checkpoints", "latest"))
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(strings.TrimSpace(string(name)), ".safetensors")
	b, err := os.ReadFile(filepath.Join(run, "checkpoints", base+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunOnly trains one run of a sweep with --only, then another: each
// call trains only its run, and the table written after the second keeps
// the first's row. An unknown name is a one-line error that lists the
// runs and trains nothing.
func TestRunOnly(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "only")
	yaml := strings.Replace(sweepYAML, "train.epochs: 3", "train.epochs: 1", 1)
	yaml = strings.Replace(yaml, "data.limit: 3840", "data.limit: 512", 1)
	file := filepath.Join(dir, "only.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(yaml, "OUT", out, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	first, second := "vae.beta=4,vae.latent_dim=2", "vae.beta=0.5,vae.latent_dim=20"

	msg, err := genmodel("run", file, "--only", "vae.beta=3,vae.latent_dim=2").CombinedOutput()
	if err == nil || strings.Count(strings.TrimSpace(string(msg)), "\n") != 0 || !strings.Contains(string(msg), first) {
		t.Errorf("--only with an unknown run: %v, %q; want a one-line error listing the runs", err, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an unknown --only name made the experiment's folder")
	}

	for i, name := range []string{first, second} {
		if msg, err := genmodel("run", file, "--only", name).CombinedOutput(); err != nil {
			t.Fatalf("--only %s: %v\n%s", name, err, msg)
		}
		entries, _ := os.ReadDir(out)
		var runs []string
		for _, e := range entries {
			if e.IsDir() {
				runs = append(runs, e.Name())
			}
		}
		if len(runs) != i+1 {
			t.Fatalf("after --only %s the folder holds runs %v, want %d", name, runs, i+1)
		}
		table, err := os.ReadFile(filepath.Join(out, "compare.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{first, second}[:i+1] {
			if !strings.Contains(string(table), want) {
				t.Errorf("compare.md after --only %s lacks %s:\n%s", name, want, table)
			}
		}
	}
}

// TestRunRejectsBadExperiments: errors before anything trains.
func TestRunRejectsBadExperiments(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "model: vae\ngrid:\n  vae.betta: [1, 2]\n", "unknown key vae.betta"},
		{"empty grid", "model: vae\ngrid:\n  vae.beta: []\n", "vae.beta has no values"},
		{"no runs", "model: vae\n", "no runs"},
		{"unknown model", "model: vea\ngrid:\n  seed: [1]\n", `unknown model "vea"`},
		{"misspelt field", "model: vae\ngird:\n  vae.beta: [1]\n", "gird"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			os.WriteFile(path, []byte(c.yaml+"out: "+filepath.Join(dir, "out")+"\n"), 0o644)
			var stderr bytes.Buffer
			cmd := genmodel("run", path)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1; stderr %q", err, stderr.String())
			}
			if msg := strings.TrimSpace(stderr.String()); strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
				t.Errorf("stderr %q, want one line containing %q", msg, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Error("a run folder was made before the error")
			}
		})
	}
	// A run folder of another model.
	out := filepath.Join(dir, "taken")
	os.MkdirAll(filepath.Join(out, "seed=1"), 0o755)
	os.WriteFile(filepath.Join(out, "seed=1", "config.yaml"), []byte("model: gan\n"), 0o644)
	path := filepath.Join(dir, "taken.yaml")
	os.WriteFile(path, []byte("model: vae\ngrid:\n  seed: [1]\nout: "+out+"\n"), 0o644)
	if msg, err := genmodel("run", path).CombinedOutput(); err == nil || !strings.Contains(string(msg), "holds a gan run") {
		t.Errorf("a gan folder in a vae sweep: %v %s", err, msg)
	}
}

// TestRunRejectsMisplacedSlurmFlags: a Slurm option without --executor
// slurm, an unknown executor and --slurm-task outside Slurm are one-line
// errors that train nothing and submit nothing.
func TestRunRejectsMisplacedSlurmFlags(t *testing.T) {
	dir := t.TempDir()
	path := writeSweep(t, dir, filepath.Join(dir, "out"))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--detach"}, "--detach is a Slurm option: add --executor slurm"},
		{[]string{"--partition", "cpu"}, "--partition is a Slurm option"},
		{[]string{"--sbatch-arg=--mem=8G"}, "--sbatch-arg is a Slurm option"},
		{[]string{"--executor", "pbs"}, `--executor "pbs": choose local or slurm`},
		{[]string{"--slurm-task", "vae.beta=4,vae.latent_dim=2"}, "runs inside a Slurm array task"},
		{[]string{"--emit", filepath.Join(dir, "job.sh"), "--sbatch-arg=mem=8G"}, "starting with '-'"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd := genmodel(append([]string{"run", path}, c.args...)...)
			cmd.Env = append(cmd.Env, "SLURM_ARRAY_JOB_ID=", "SLURM_ARRAY_TASK_ID=")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if msg := strings.TrimSpace(stderr.String()); err == nil || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
				t.Errorf("exit %v, stderr %q; want one line containing %q", err, msg, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a run folder was made")
	}
}

// TestRunEmitsABatchScript: --emit writes the script of the runs not done
// and submits nothing; --status reports the runs without Slurm.
func TestRunEmitsABatchScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	path := writeSweep(t, dir, out)
	script := filepath.Join(dir, "job.sh")
	msg, err := genmodel("run", path, "--emit", script, "--time", "1:00:00").CombinedOutput()
	if err != nil {
		t.Fatalf("--emit: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=0-3\n", "#SBATCH --time=1:00:00\n", "'vae.beta=4,vae.latent_dim=20'", "--slurm-task"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the script lacks %q:\n%s", want, b)
		}
	}
	status, err := genmodel("run", path, "--status").CombinedOutput()
	if err != nil || !strings.Contains(string(status), "4 runs: 0 done, 0 running, 0 pending, 0 failed, 4 not started") {
		t.Errorf("--status: %v\n%s", err, status)
	}
}
