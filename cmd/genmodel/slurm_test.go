//go:build slurm

// The Slurm integration test needs a running Slurm (scripts/slurm.sh start)
// and runs with `make test-slurm`.

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const slurmGridYAML = `model: vae
set:
  train.epochs: 4
  data.limit: 12800
  train.sample_count: 4
grid:
  vae.beta: [0.5, 1, 4]
eval:
  n: 200
out: OUT
`

// TestSlurmGridMatchesLocal runs a three-run VAE grid through sbatch,
// cancels one task mid-run with scancel, and checks that running the
// command again resubmits only that run, which resumes; the comparison
// table (less its timings) and every final checkpoint then equal the local
// runner's for the same seeds, byte for byte.
func TestSlurmGridMatchesLocal(t *testing.T) {
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput(); err != nil {
		t.Fatalf("no Slurm to test against (scripts/slurm.sh install && scripts/slurm.sh start): %v %s", err, out)
	}
	// Slurm tasks run this test binary as genmodel: sbatch passes the
	// submitting environment on, GENMODEL_AS_MAIN included. The folders
	// must be visible to the node: here it is this machine.
	dir := t.TempDir()
	write := func(name, out string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Replace(slurmGridYAML, "OUT", out, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	localOut, slurmOut := filepath.Join(dir, "local"), filepath.Join(dir, "slurm")
	local, onSlurm := write("local.yaml", localOut), write("grid.yaml", slurmOut)
	if out, err := genmodel("run", local).CombinedOutput(); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}

	out, err := genmodel("run", onSlurm, "--executor", "slurm", "--detach").CombinedOutput()
	if err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`submitted job (\d+): 3 runs, array tasks 0-2`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no submission of three tasks in:\n%s", out)
	}
	job := string(m[1])
	t.Logf("submitted job %s", job)

	// Cancel the second run once it has saved a checkpoint, before it ends.
	victim := filepath.Join(slurmOut, "vae.beta=1")
	deadline := time.Now().Add(5 * time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(victim, "metrics.jsonl"))
		_, errLatest := os.Stat(filepath.Join(victim, "checkpoints", "latest"))
		if errLatest == nil && bytes.Count(b, []byte(`"epoch"`)) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s_1 never got going; its log:\n%s", job, readFile(filepath.Join(slurmOut, "slurm", job+"_1.log")))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(victim, "eval.json")); err == nil {
		t.Fatal("the run to cancel finished before scancel: lengthen its training")
	}
	if out, err := exec.Command("scancel", job+"_1").CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, out)
	}
	waitQueueEmpty(t, job)

	status, err := genmodel("run", onSlurm, "--status").CombinedOutput()
	if err != nil {
		t.Fatalf("--status: %v\n%s", err, status)
	}
	t.Logf("status after scancel:\n%s", status)
	for _, want := range []string{"3 runs: 2 done, 0 running, 0 pending, 1 failed", "stopped by a signal", job + "_1"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("--status lacks %q", want)
		}
	}

	rerun, err := genmodel("run", onSlurm, "--executor", "slurm", "--poll", "1s").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerun)
	}
	t.Logf("rerun:\n%s", rerun)
	m = regexp.MustCompile(`submitted job (\d+): 1 runs, array tasks 1;`).FindSubmatch(rerun)
	if m == nil {
		t.Fatalf("the rerun did not resubmit exactly the cancelled run:\n%s", rerun)
	}
	if log := readFile(filepath.Join(slurmOut, "slurm", string(m[1])+"_1.log")); !strings.Contains(log, "resuming") {
		t.Errorf("the resubmitted task did not resume its checkpoint; its log:\n%s", log)
	}

	if a, b := comparable(t, localOut), comparable(t, slurmOut); a != b {
		t.Errorf("compare.json differs from the local runner's:\nlocal %s\nslurm %s", a, b)
	}
	for _, run := range []string{"vae.beta=0.5", "vae.beta=1", "vae.beta=4"} {
		for _, suffix := range []string{".safetensors", ".optim.safetensors"} {
			if !bytes.Equal(lastCheckpoint(t, filepath.Join(localOut, run), suffix), lastCheckpoint(t, filepath.Join(slurmOut, run), suffix)) {
				t.Errorf("%s: the final %s differs from the local runner's", run, suffix)
			}
		}
	}
}

// waitQueueEmpty waits until squeue lists no task of job.
func waitQueueEmpty(t *testing.T, job string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		out, err := exec.Command("squeue", "--noheader", "--array", "--jobs", job, "--format=%i %T").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			return // Slurm answers "invalid job id" once it has forgotten the job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still queued after 5 minutes:\n%s", job, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// comparable is an experiment's compare.json without what differs between
// two runs of the same seeds: timings and paths.
func comparable(t *testing.T, exp string) string {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(readFile(filepath.Join(exp, "compare.json"))), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		delete(r, "dir")
		delete(r, "wall_seconds")
		delete(r, "train_images_per_sec")
		if ev, ok := r["eval"].(map[string]any); ok {
			delete(ev, "checkpoint")
			delete(ev, "sample_images_per_sec")
		}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
