package checkpoint

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBestFileRoundTrip writes and reads back records, including values
// that a short float format would round.
func TestBestFileRoundTrip(t *testing.T) {
	for _, b := range []Best{
		{File: FileName(937), Metric: "test_bits_per_dim", Value: 1.2345678901234567},
		{File: FileName(0), Metric: "test_error", Value: 0},
		{File: FileName(99999999), Metric: "test_loss", Value: -3.5e-12},
	} {
		dir := t.TempDir()
		if err := WriteBest(dir, b); err != nil {
			t.Fatal(err)
		}
		got, err := ReadBest(dir)
		if err != nil || got != b {
			t.Errorf("ReadBest after WriteBest(%+v) = %+v, %v", b, got, err)
		}
	}
	if _, err := ReadBest(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadBest of a folder without one: %v, want os.ErrNotExist", err)
	}
}

// TestBestFileRejectsCorruptInput feeds damaged records: each must be a
// one-line error naming the file, never a panic.
func TestBestFileRejectsCorruptInput(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "fields"},
		{"two fields", "step-00000001.safetensors 1.5\n", "fields"},
		{"path outside", "step-../../x.safetensors test_loss 1\n", "not a checkpoint file name"},
		{"sidecar", "step-00000001.optim.safetensors test_loss 1\n", "not a checkpoint file name"},
		{"other file", "latest test_loss 1\n", "not a checkpoint file name"},
		{"not a number", "step-00000001.safetensors test_loss one\n", "not a finite number"},
		{"NaN", "step-00000001.safetensors test_loss NaN\n", "not a finite number"},
		{"binary", "\x00\xff\xfe", "fields"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, BestFile), []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadBest(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Join(dir, BestFile)) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ReadBest(%q) = %v, want a one-line error naming the file and %q", c.text, err, c.want)
			}
		})
	}
}

// TestKeepIfBestKeepsTheLowest saves five checkpoints with keep = 2 and a
// metric that falls, rises, falls below its best and turns NaN: best must
// follow the lowest finite value and survive pruning, and both pointer
// files must resolve.
func TestKeepIfBestKeepsTheLowest(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		value    float64
		wantBest int64
	}{{3, 1}, {1, 2}, {2, 2}, {1.5, 2}, {0.5, 5}}
	for i, s := range steps {
		step := int64(i + 1)
		path, err := Save(dir, params(float32(step)), nil, Meta{Model: "m", Step: step}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := KeepIfBest(path, "test_loss", s.value); err != nil {
			t.Fatal(err)
		}
		b, err := ReadBest(dir)
		if err != nil || b.File != FileName(s.wantBest) {
			t.Fatalf("after step %d (value %v): best %+v, %v; want %s", step, s.value, b, err, FileName(s.wantBest))
		}
		if _, err := os.Stat(filepath.Join(dir, b.File)); err != nil {
			t.Fatalf("after step %d the best checkpoint was pruned: %v", step, err)
		}
		if i == 3 {
			// Steps 3 and 4 are the newest two, step 2 the best: all three kept.
			if got := len(List(dir)); got != 3 {
				t.Errorf("after step 4, %d checkpoints on disk, want 3 (the newest two and the best)", got)
			}
		}
	}
	if ok, err := KeepIfBest(filepath.Join(dir, FileName(5)), "test_loss", math.NaN()); ok || err != nil {
		t.Errorf("KeepIfBest(NaN) = %v, %v; want false, nil", ok, err)
	}
	for ptr, want := range map[string]string{BestFile: FileName(5), "latest": FileName(5)} {
		got, err := Resolve(filepath.Join(dir, ptr))
		if err != nil || filepath.Base(got) != want {
			t.Errorf("Resolve(checkpoints/%s) = %s, %v; want %s", ptr, got, err, want)
		}
	}
}

// TestKeepIfBestReplacesStaleRecords: a record of another metric, of a
// deleted checkpoint or an unreadable one gives way to the new checkpoint.
func TestKeepIfBestReplacesStaleRecords(t *testing.T) {
	for name, record := range map[string]string{
		"other metric":       FileName(1) + " test_error 0.01\n",
		"deleted checkpoint": FileName(7) + " test_loss 0.01\n",
		"unreadable":         "garbage\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path, err := Save(dir, params(1), nil, Meta{Model: "m", Step: 1}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, BestFile), []byte(record), 0o644); err != nil {
				t.Fatal(err)
			}
			if ok, err := KeepIfBest(path, "test_loss", 5); !ok || err != nil {
				t.Errorf("KeepIfBest = %v, %v; want true", ok, err)
			}
			if b, err := ReadBest(dir); err != nil || b != (Best{File: FileName(1), Metric: "test_loss", Value: 5}) {
				t.Errorf("record %+v, %v", b, err)
			}
		})
	}
}
