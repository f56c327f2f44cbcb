package main

import (
	"bufio"
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

// TestMain lets a test run this binary as the genmodel command: with
// GENMODEL_AS_MAIN=1 the test binary behaves as main().
func TestMain(m *testing.M) {
	if os.Getenv("GENMODEL_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func genmodel(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GENMODEL_AS_MAIN=1")
	return cmd
}

func TestHelpHasExamples(t *testing.T) {
	for _, c := range []string{"train", "sample", "eval", "run", "compare", "models", "config"} {
		out, err := genmodel(c, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --help: %v\n%s", c, err, out)
		}
		if !strings.Contains(string(out), "Examples:") || !strings.Contains(string(out), "genmodel "+c) {
			t.Errorf("%s --help lacks an example:\n%s", c, out)
		}
	}
}

// TestErrorsAreOneLine runs bad invocations: each must exit 1 with one line
// on stderr that names the problem, never a panic.
func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("not a checkpoint at all"), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("train:\n  epoch: 3\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "vea"}, `unknown model "vea"`},
		{[]string{"train", "--model", "vae", "--config", cfg, "--out", filepath.Join(dir, "r")}, "c.yaml: unknown key train.epoch"},
		{[]string{"train", "--model", "vae", "--set", "novalue", "--out", filepath.Join(dir, "r")}, "want key=value"},
		{[]string{"sample", "--checkpoint", bad}, "bad.safetensors"},
		{[]string{"eval", "--checkpoint", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"config", "--model", "nope"}, `unknown model "nope"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := genmodel(c.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit %v, want status 1; stderr %q", err, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "genmodel: ") || !strings.Contains(msg, c.want) {
				t.Errorf("stderr %q, want one line containing %q", msg, c.want)
			}
		})
	}
}

// TestInterruptSavesCheckpoint sends SIGINT to a training run and checks
// that it saves a checkpoint, exits 130 with a one-line hint, and resumes.
func TestInterruptSavesCheckpoint(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	cmd := genmodel("train", "--model", "vae", "--out", out, "--epochs", "50",
		"--set", "data.limit=1280", "--set", "train.log_every=1", "--set", "train.sample_count=4")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if strings.Contains(sc.Text(), "step 3 ") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130; stderr %q", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "interrupted at step") || !strings.Contains(msg, "--resume") {
		t.Errorf("stderr %q, want one line saying how to resume", msg)
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints", "latest")); err != nil {
		t.Fatalf("no checkpoint after the interrupt: %v", err)
	}
	res, err := genmodel("train", "--out", out, "--resume", "--epochs", "1", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, res)
	}
}
