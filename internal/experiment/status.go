package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/runlock"
)

// Phase is where one run of an experiment stands.
type Phase string

const (
	Done       Phase = "done"        // eval.json written
	Running    Phase = "running"     // a trainer or a Slurm task works on it now
	Pending    Phase = "pending"     // queued in Slurm
	Failed     Phase = "failed"      // its Slurm task ended without finishing it
	Stopped    Phase = "stopped"     // a checkpoint, not finished, nothing working on it: the next run resumes it
	NotStarted Phase = "not started" // nothing trained yet
)

// RunStatus is one run's phase, with the Slurm task that last took it.
type RunStatus struct {
	Name  string
	Phase Phase
	Task  string // Slurm array task (JOB_INDEX), "" when never submitted
	// Detail says why a run failed, or Slurm's own state where it is not
	// plainly pending or running.
	Detail string
	Log    string // the task's log, when there is one
}

// Queued reports whether Slurm still holds the run (pending or running).
func (s RunStatus) Queued() bool { return s.Task != "" && (s.Phase == Pending || s.Phase == Running) }

// Status tells each run's phase from its folder, the experiment's Slurm
// submissions (nil when none) and the queue (squeue's answer; nil when the
// experiment never went to Slurm).
func Status(spec *Spec, runs []Run, subs []Submission, queue map[string]string) ([]RunStatus, error) {
	out := make([]RunStatus, len(runs))
	for i, r := range runs {
		st := RunStatus{Name: r.Name}
		local, err := runState(r)
		if err != nil {
			return nil, err
		}
		// The last submission that took this run, if its name still
		// matches (the experiment file may have changed since).
		for _, sub := range subs {
			if sub.Runs[i] == r.Name {
				st.Task = TaskID(sub.Job, i)
			}
		}
		if st.Task != "" {
			st.Log = filepath.Join(SlurmDir(spec), st.Task+".log")
		}
		slurmState, queued := queue[st.Task]
		switch {
		case local == finished:
			st.Phase = Done
		case st.Task != "" && queued:
			st.Phase = Running
			switch slurmState {
			case "PENDING":
				st.Phase = Pending
			case "RUNNING":
			default:
				st.Detail = strings.ToLower(slurmState)
			}
		case st.Task != "":
			st.Phase, st.Detail = Failed, endedHow(spec, st.Task)
		case runlock.Held(r.Dir):
			st.Phase = Running
		case local == stopped:
			st.Phase = Stopped
		default:
			st.Phase = NotStarted
		}
		out[i] = st
	}
	return out, nil
}

// endedHow explains a task that left the queue without finishing its run,
// from the record the task wrote.
func endedHow(spec *Spec, task string) string {
	rec, err := ReadTaskRecord(spec, task)
	switch {
	case err != nil:
		return "left the queue without a record of how it ended (killed before it started, or its node failed)"
	case rec.State == TaskStopped:
		return "stopped by a signal (scancel or the time limit); its checkpoint is kept and a resubmission resumes it"
	case rec.State == TaskFailed:
		return rec.Error
	case rec.State == TaskRunning:
		return "killed while running (SIGKILL, out of memory, or the node failed); the last checkpoint is kept"
	default:
		return "ended without writing eval.json"
	}
}

// Count tallies runs by phase.
func Count(sts []RunStatus) map[Phase]int {
	n := map[Phase]int{}
	for _, s := range sts {
		n[s.Phase]++
	}
	return n
}

// Summary is one line of counts: "3 runs: 1 done, 1 running, 1 pending".
func Summary(sts []RunStatus) string {
	n := Count(sts)
	parts := []string{}
	for _, p := range []Phase{Done, Running, Pending, Failed, Stopped, NotStarted} {
		if n[p] > 0 || p == Done || p == Running || p == Pending || p == Failed {
			parts = append(parts, fmt.Sprintf("%d %s", n[p], p))
		}
	}
	return fmt.Sprintf("%d runs: %s", len(sts), strings.Join(parts, ", "))
}

// WriteStatus prints a table of runs and their phases.
func WriteStatus(w io.Writer, sts []RunStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTATE\tSLURM TASK\tDETAIL")
	for _, s := range sts {
		task := s.Task
		if task == "" {
			task = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Phase, task, s.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summary(sts))
	return err
}

// LogTail is the last n lines of a task's log, "" when there is none.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TaskState is how a Slurm task's run went, as the task records it.
type TaskState string

const (
	TaskRunning TaskState = "running"
	TaskDone    TaskState = "done"
	TaskFailed  TaskState = "failed"
	TaskStopped TaskState = "stopped"
)

// TaskRecord is what a Slurm task writes beside its log
// (slurm/JOB_INDEX.json): with no accounting database, Slurm forgets a job
// minutes after it ends, and squeue cannot say whether it failed.
type TaskRecord struct {
	Run     string    `json:"run"`
	State   TaskState `json:"state"`
	Error   string    `json:"error,omitempty"`
	Host    string    `json:"host"`
	Updated time.Time `json:"updated"`
}

// WriteTaskRecord records a task's state; atomic, so a reader never sees
// half a record.
func WriteTaskRecord(spec *Spec, task string, rec TaskRecord) error {
	rec.Host, _ = os.Hostname()
	rec.Updated = time.Now().UTC().Truncate(time.Second)
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(SlurmDir(spec), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(SlurmDir(spec), task+".json"), append(b, '\n'))
}

// ReadTaskRecord reads the record of task (JOB_INDEX).
func ReadTaskRecord(spec *Spec, task string) (TaskRecord, error) {
	path := filepath.Join(SlurmDir(spec), task+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		return TaskRecord{}, err
	}
	var rec TaskRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil || rec.State == "" {
		return TaskRecord{}, errors.Join(fmt.Errorf("%s is not a task record", path), err)
	}
	return rec, nil
}
