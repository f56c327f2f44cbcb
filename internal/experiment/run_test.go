package experiment

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestRunnerStartsNothingAfterInterrupt interrupts a sweep while its first
// run trains and the dispatcher waits to hand over the second: the first
// run gets its SIGINT, and no later run starts.
func TestRunnerStartsNothingAfterInterrupt(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	dir := t.TempDir()
	var runs []Run
	for _, name := range []string{"a", "b", "c"} {
		runs = append(runs, Run{Name: name, Model: "vae", Dir: filepath.Join(dir, name)})
	}
	var (
		mu      sync.Mutex
		started []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	rn := &Runner{Jobs: 1, Command: func(args ...string) (*exec.Cmd, error) {
		mu.Lock()
		started = append(started, args[2]) // train --out DIR
		mu.Unlock()
		// The interrupt lands while the run trains.
		time.AfterFunc(100*time.Millisecond, cancel)
		return exec.Command("sleep", "10"), nil
	}}
	err := rn.Run(ctx, &Spec{}, runs)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run returned %v, want ErrInterrupted", err)
	}
	if len(started) != 1 || started[0] != runs[0].Dir {
		t.Errorf("commands started: %v, want only the first run's", started)
	}
}
