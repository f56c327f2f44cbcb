package experiment

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/genmodel/genmodel/internal/atomicfile"
)

// SlurmOptions are the sbatch settings of a submission. Zero values leave
// the cluster's defaults.
type SlurmOptions struct {
	Partition   string
	Time        string // sbatch --time, e.g. 2:00:00
	CPUsPerTask int
	// SbatchArgs become extra "#SBATCH ARG" lines, e.g. --mem=8G.
	SbatchArgs []string
}

// Slurm sends an experiment's runs to Slurm as one job array: task i trains
// and evaluates run i of the experiment with `genmodel run FILE
// --slurm-task NAME`, which follows the local runner's rules (a finished
// run is skipped, a stopped one resumed). A shared filesystem is assumed,
// as on every Slurm cluster: the tasks read the experiment file and the
// genmodel binary and write the run folders at the paths given here.
//
// Slurm keeps no record of a job once it leaves the queue unless an
// accounting database runs, so the state of a run comes from three places:
// its eval.json (done), squeue (pending, running), and a record each task
// writes into the experiment's slurm/ folder beside its log (how it ended).
type Slurm struct {
	SlurmOptions
	Binary  string // genmodel, absolute
	File    string // the experiment file, absolute
	WorkDir string // where tasks run: the experiment's out is relative to it
	// Command runs a Slurm client (sbatch, squeue) and returns its
	// standard output; nil runs the program named.
	Command func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// SlurmDir is the folder of an experiment's batch scripts, submissions,
// task logs and task records.
func SlurmDir(spec *Spec) string { return filepath.Join(spec.Out, "slurm") }

// Submission is one sbatch of an experiment: job Job's array task i runs
// the run named Runs[i] (array indices are run positions in the experiment).
type Submission struct {
	Job       string         `json:"job"`
	Runs      map[int]string `json:"runs"`
	Submitted time.Time      `json:"submitted"`
}

// TaskID is Slurm's name of an array task, JOB_INDEX.
func TaskID(job string, index int) string { return job + "_" + strconv.Itoa(index) }

// Script is the batch script for the runs at indices (positions in runs).
func (s *Slurm) Script(spec *Spec, runs []Run, indices []int) ([]byte, error) {
	if len(indices) == 0 {
		return nil, errors.New("no runs to submit")
	}
	for _, a := range s.SbatchArgs {
		if strings.ContainsAny(a, "\n\r") || !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("--sbatch-arg %q: give one sbatch option per flag, starting with '-' (e.g. --sbatch-arg=--mem=8G)", a)
		}
	}
	for _, v := range []struct{ flag, value string }{{"--partition", s.Partition}, {"--time", s.Time}} {
		if strings.ContainsAny(v.value, "\n\r \t") {
			return nil, fmt.Errorf("%s %q must not hold spaces or line breaks", v.flag, v.value)
		}
	}
	if s.CPUsPerTask < 0 {
		return nil, fmt.Errorf("--cpus-per-task must be positive, got %d", s.CPUsPerTask)
	}
	out, err := filepath.Abs(SlurmDir(spec))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name // letters, digits and ".-_=," only (safeName): safe in single quotes
	}
	var b bytes.Buffer
	err = scriptTemplate.Execute(&b, map[string]any{
		"Name":    "genmodel-" + strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File)),
		"Array":   ArraySpec(indices),
		"Log":     filepath.Join(out, "%A_%a.log"),
		"WorkDir": s.WorkDir,
		"Opts":    s.SlurmOptions,
		"Runs":    names,
		"Binary":  s.Binary,
		"File":    s.File,
	})
	return b.Bytes(), err
}

var scriptTemplate = template.Must(template.New("sbatch").Parse(`#!/bin/bash
# One array task per run of {{.File}}: task i trains and evaluates
# run i (skipped when finished, resumed when stopped). Written by
# genmodel run --executor slurm; submit it with sbatch.
#SBATCH --job-name={{.Name}}
#SBATCH --array={{.Array}}
#SBATCH --output={{.Log}}
#SBATCH --chdir={{.WorkDir}}
{{- if .Opts.Partition}}
#SBATCH --partition={{.Opts.Partition}}
{{- end}}
{{- if .Opts.Time}}
#SBATCH --time={{.Opts.Time}}
{{- end}}
{{- if .Opts.CPUsPerTask}}
#SBATCH --cpus-per-task={{.Opts.CPUsPerTask}}
{{- end}}
{{- range .Opts.SbatchArgs}}
#SBATCH {{.}}
{{- end}}
set -euo pipefail
runs=({{range $i, $n := .Runs}}
  '{{$n}}'{{end}}
)
# Go would otherwise use every core of the node, not the task's share.
if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then export GOMAXPROCS=$SLURM_CPUS_PER_TASK; fi
exec {{.Binary}} run {{.File}} --slurm-task "${runs[$SLURM_ARRAY_TASK_ID]}"
`))

// ArraySpec writes indices as sbatch --array does: 0-2,5,7-8.
func ArraySpec(indices []int) string {
	ix := append([]int(nil), indices...)
	sort.Ints(ix)
	var parts []string
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] == ix[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(ix[i]))
		} else {
			parts = append(parts, strconv.Itoa(ix[i])+"-"+strconv.Itoa(ix[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// Submit writes the batch script of the runs at indices into the
// experiment's slurm/ folder, submits it and records the submission.
func (s *Slurm) Submit(ctx context.Context, spec *Spec, runs []Run, indices []int) (Submission, error) {
	script, err := s.Script(spec, runs, indices)
	if err != nil {
		return Submission{}, err
	}
	dir := SlurmDir(spec)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Submission{}, err
	}
	path := filepath.Join(dir, "job.sh")
	if err := atomicfile.WriteBytes(path, script); err != nil {
		return Submission{}, err
	}
	out, err := s.run(ctx, "sbatch", "--parsable", path)
	if err != nil {
		return Submission{}, fmt.Errorf("sbatch %s: %w", path, err)
	}
	// --parsable prints "JOB" or "JOB;CLUSTER".
	job, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(job); err != nil {
		return Submission{}, fmt.Errorf("sbatch %s printed %q, not a job id", path, strings.TrimSpace(string(out)))
	}
	sub := Submission{Job: job, Runs: map[int]string{}, Submitted: time.Now().UTC().Truncate(time.Second)}
	for _, i := range indices {
		sub.Runs[i] = runs[i].Name
	}
	if err := appendSubmission(dir, sub); err != nil {
		return sub, fmt.Errorf("job %s was submitted but not recorded (%w): cancel it with scancel %s and submit again", job, err, job)
	}
	return sub, nil
}

// submissionsFile lists an experiment's submissions, one JSON line each,
// oldest first.
const submissionsFile = "submissions.jsonl"

func appendSubmission(dir string, sub Submission) error {
	b, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, submissionsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Submissions reads an experiment's submissions, oldest first; none when
// it was never sent to Slurm.
func Submissions(spec *Spec) ([]Submission, error) {
	path := filepath.Join(SlurmDir(spec), submissionsFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var subs []Submission
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var sub Submission
		if err := json.Unmarshal(sc.Bytes(), &sub); err != nil || sub.Job == "" {
			return nil, fmt.Errorf("%s line %d is not a submission record; remove the line (its runs then count as never submitted)", path, line)
		}
		subs = append(subs, sub)
	}
	return subs, sc.Err()
}

// Queue asks squeue for this user's array tasks: task id -> Slurm state
// (PENDING, RUNNING, COMPLETING, ...).
func (s *Slurm) Queue(ctx context.Context) (map[string]string, error) {
	out, err := s.run(ctx, "squeue", "--noheader", "--array", "--me", "--format=%i|%T")
	if err != nil {
		return nil, fmt.Errorf("squeue: %w", err)
	}
	q := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
		if ok {
			q[id] = state
		}
	}
	return q, nil
}

func (s *Slurm) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if s.Command != nil {
		return s.Command(ctx, name, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%v: %s", err, msg)
		}
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%s not found: is this a Slurm login node? (scripts/slurm.sh sets up a one-node Slurm)", name)
		}
		return nil, err
	}
	return out, nil
}
