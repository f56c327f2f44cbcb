package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestArraySpec(t *testing.T) {
	cases := []struct {
		in   []int
		want string
	}{
		{[]int{0}, "0"},
		{[]int{0, 1, 2}, "0-2"},
		{[]int{2, 0, 1}, "0-2"},
		{[]int{0, 2, 3, 5, 7, 8}, "0,2-3,5,7-8"},
		{[]int{4, 9}, "4,9"},
	}
	for _, c := range cases {
		if got := ArraySpec(c.in); got != c.want {
			t.Errorf("ArraySpec(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// gridSpec is a three-run experiment in a temporary folder.
func gridSpec(t *testing.T) (*Spec, []Run) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "grid.yaml")
	yaml := "model: vae\nset: {train.epochs: 1}\ngrid:\n  vae.beta: [0.5, 1, 4]\nout: " + filepath.Join(dir, "out") + "\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, runs, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return spec, runs
}

func TestScriptCarriesTheOptions(t *testing.T) {
	spec, runs := gridSpec(t)
	s := &Slurm{
		SlurmOptions: SlurmOptions{Partition: "cpu", Time: "2:00:00", CPUsPerTask: 2, SbatchArgs: []string{"--mem=8G", "--qos=long"}},
		Binary:       "/opt/bin/genmodel", File: "/home/u/grid.yaml", WorkDir: "/home/u",
	}
	b, err := s.Script(spec, runs, []int{0, 2})
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --job-name=genmodel-grid\n",
		"#SBATCH --array=0,2\n",
		"#SBATCH --output=" + filepath.Join(spec.Out, "slurm", "%A_%a.log") + "\n",
		"#SBATCH --chdir=/home/u\n",
		"#SBATCH --partition=cpu\n",
		"#SBATCH --time=2:00:00\n",
		"#SBATCH --cpus-per-task=2\n",
		"#SBATCH --mem=8G\n#SBATCH --qos=long\n",
		"runs=(\n  'vae.beta=0.5'\n  'vae.beta=1'\n  'vae.beta=4'\n)\n",
		"GOMAXPROCS=$SLURM_CPUS_PER_TASK",
		`exec /opt/bin/genmodel run /home/u/grid.yaml --slurm-task "${runs[$SLURM_ARRAY_TASK_ID]}"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q:\n%s", want, script)
		}
	}
	// sbatch stops reading #SBATCH lines at the first command.
	if i, j := strings.LastIndex(script, "#SBATCH"), strings.Index(script, "set -euo"); i > j {
		t.Errorf("an #SBATCH line follows the first command:\n%s", script)
	}

	plain, err := (&Slurm{Binary: "/b", File: "/f.yaml", WorkDir: "/"}).Script(spec, runs, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"--partition", "--time", "--cpus-per-task"} {
		if strings.Contains(string(plain), absent) {
			t.Errorf("a script without options sets %s:\n%s", absent, plain)
		}
	}
}

func TestScriptRejectsBadOptions(t *testing.T) {
	spec, runs := gridSpec(t)
	cases := []struct {
		name string
		opts SlurmOptions
		ix   []int
		want string
	}{
		{"no runs", SlurmOptions{}, nil, "no runs"},
		{"line break in an arg", SlurmOptions{SbatchArgs: []string{"--mem=8G\nrm -rf /"}}, []int{0}, "one sbatch option per flag"},
		{"arg without a dash", SlurmOptions{SbatchArgs: []string{"mem=8G"}}, []int{0}, "starting with '-'"},
		{"space in partition", SlurmOptions{Partition: "a b"}, []int{0}, "--partition"},
		{"negative cpus", SlurmOptions{CPUsPerTask: -1}, []int{0}, "--cpus-per-task"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&Slurm{SlurmOptions: c.opts, Binary: "/b", File: "/f.yaml", WorkDir: "/"}).Script(spec, runs, c.ix)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// fakeSlurm answers sbatch with job ids from 40 on and squeue with queue.
type fakeSlurm struct {
	next   int
	queue  string
	calls  []string
	failed bool
}

func (f *fakeSlurm) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	switch name {
	case "sbatch":
		if f.failed {
			return nil, errors.New("sbatch: error: invalid partition specified: gpu")
		}
		f.next++
		return []byte(strconv.Itoa(39+f.next) + ";cluster\n"), nil
	case "squeue":
		return []byte(f.queue), nil
	}
	return nil, errors.New("unexpected " + name)
}

func TestSubmitRecordsAndStatusFollows(t *testing.T) {
	spec, runs := gridSpec(t)
	fake := &fakeSlurm{}
	s := &Slurm{Binary: "/b", File: "/f.yaml", WorkDir: "/", Command: fake.run}
	sub, err := s.Submit(context.Background(), spec, runs, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Job != "40" || len(sub.Runs) != 3 || sub.Runs[1] != "vae.beta=1" {
		t.Errorf("submission %+v", sub)
	}
	if _, err := os.Stat(filepath.Join(SlurmDir(spec), "job.sh")); err != nil {
		t.Errorf("no batch script kept: %v", err)
	}
	// Run 0 finished; run 1's task was cancelled and says so; run 2 is
	// still queued.
	mustWrite(t, filepath.Join(runs[0].Dir, "eval.json"), "{}")
	if err := WriteTaskRecord(spec, "40_1", TaskRecord{Run: runs[1].Name, State: TaskStopped, Error: "interrupted"}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(SlurmDir(spec), "40_1.log"), "line 1\nline 2\n")
	fake.queue = "40_2|PENDING\n99_0|RUNNING\n"
	subs, err := Submissions(spec)
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sts, err := Status(spec, runs, subs, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		phase Phase
		task  string
	}{{Done, "40_0"}, {Failed, "40_1"}, {Pending, "40_2"}}
	for i, w := range want {
		if sts[i].Phase != w.phase || sts[i].Task != w.task {
			t.Errorf("run %d: %s %s, want %s %s", i, sts[i].Phase, sts[i].Task, w.phase, w.task)
		}
	}
	if !strings.Contains(sts[1].Detail, "stopped by a signal") || LogTail(sts[1].Log, 1) != "line 2" {
		t.Errorf("failed run: detail %q, log tail %q", sts[1].Detail, LogTail(sts[1].Log, 1))
	}
	if got := Summary(sts); got != "3 runs: 1 done, 0 running, 1 pending, 1 failed" {
		t.Errorf("Summary = %q", got)
	}

	// A resubmission of run 1 supersedes job 40 for it only.
	if _, err := s.Submit(context.Background(), spec, runs, []int{1}); err != nil {
		t.Fatal(err)
	}
	fake.queue = "41_1|RUNNING\n40_2|RUNNING\n"
	subs, _ = Submissions(spec)
	q, _ = s.Queue(context.Background())
	sts, _ = Status(spec, runs, subs, q)
	if sts[1].Phase != Running || sts[1].Task != "41_1" || sts[2].Task != "40_2" || sts[2].Phase != Running {
		t.Errorf("after resubmitting run 1: %+v", sts)
	}
	// Gone from the queue with no record: killed before it could write one.
	fake.queue = "40_2|COMPLETING\n"
	q, _ = s.Queue(context.Background())
	sts, _ = Status(spec, runs, subs, q)
	if sts[1].Phase != Failed || !strings.Contains(sts[1].Detail, "without a record") {
		t.Errorf("a task gone without a record: %+v", sts[1])
	}
	if sts[2].Phase != Running || sts[2].Detail != "completing" {
		t.Errorf("a completing task: %+v", sts[2])
	}

	fake.failed = true
	if _, err := s.Submit(context.Background(), spec, runs, []int{1}); err == nil || !strings.Contains(err.Error(), "invalid partition") {
		t.Errorf("a refused sbatch: %v", err)
	}
}

func TestLocalStatusWithoutSlurm(t *testing.T) {
	spec, runs := gridSpec(t)
	mustWrite(t, filepath.Join(runs[0].Dir, "eval.json"), "{}")
	mustWrite(t, filepath.Join(runs[1].Dir, "config.yaml"), "model: vae\n")
	mustWrite(t, filepath.Join(runs[1].Dir, "checkpoints", "latest"), "step-00000001.safetensors\n")
	sts, err := Status(spec, runs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []Phase{Done, Stopped, NotStarted} {
		if sts[i].Phase != want || sts[i].Task != "" {
			t.Errorf("run %d: %+v, want %s", i, sts[i], want)
		}
	}
}

func TestSubmissionsFile(t *testing.T) {
	spec, _ := gridSpec(t)
	if subs, err := Submissions(spec); err != nil || subs != nil {
		t.Fatalf("no file: %v %v", subs, err)
	}
	dir := SlurmDir(spec)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := Submission{Job: "7", Runs: map[int]string{0: "a", 3: "b"}}
	if err := appendSubmission(dir, in); err != nil {
		t.Fatal(err)
	}
	subs, err := Submissions(spec)
	if err != nil || len(subs) != 1 || subs[0].Job != "7" || subs[0].Runs[3] != "b" || len(subs[0].Runs) != 2 {
		t.Fatalf("round trip: %+v %v", subs, err)
	}
	for _, bad := range []string{"{not json\n", `{"runs":{"0":"a"}}` + "\n", `{"job":"8","runs":{"x":"a"}}` + "\n"} {
		mustWrite(t, filepath.Join(dir, submissionsFile), `{"job":"7","runs":{"0":"a"}}`+"\n"+bad)
		_, err := Submissions(spec)
		if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), submissionsFile) {
			t.Errorf("corrupt line %q: %v", bad, err)
		}
	}
}

func TestTaskRecordFile(t *testing.T) {
	spec, _ := gridSpec(t)
	if err := WriteTaskRecord(spec, "3_1", TaskRecord{Run: "r", State: TaskFailed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadTaskRecord(spec, "3_1")
	if err != nil || rec.Run != "r" || rec.State != TaskFailed || rec.Error != "boom" || rec.Host == "" || rec.Updated.IsZero() {
		t.Fatalf("round trip: %+v %v", rec, err)
	}
	path := filepath.Join(SlurmDir(spec), "3_1.json")
	for _, bad := range []string{"", "{", `{"run":"r"}`, `{"run":"r","state":"done","extra":1}`} {
		mustWrite(t, path, bad)
		if _, err := ReadTaskRecord(spec, "3_1"); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("corrupt record %q: %v", bad, err)
		}
	}
	// A run whose task left a corrupt record is failed, with the plain
	// explanation, not an error for the whole experiment.
	if got := endedHow(spec, "3_1"); !strings.Contains(got, "without a record") {
		t.Errorf("endedHow of a corrupt record: %q", got)
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
