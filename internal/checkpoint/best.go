package checkpoint

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genmodel/genmodel/internal/atomicfile"
)

// BestFile is the text file, beside `latest`, that names the checkpoint of
// a run's best epoch so far, by a test metric where lower is better:
//
//	step-00009370.safetensors test_bits_per_dim 1.2345678901234567
//
// Long runs overfit or wander (a flow's test bits/dim can rise while its
// training loss falls), so the best epoch is kept beside the newest ones:
// prune never removes the checkpoint it names.
const BestFile = "best"

// Best is what BestFile says.
type Best struct {
	File   string  // a weights file's base name in the same folder
	Metric string  // the metric's name, as metrics.jsonl records it
	Value  float64 // its value at that checkpoint
}

// ReadBest reads dir's BestFile. The error wraps os.ErrNotExist when there
// is none.
func ReadBest(dir string) (Best, error) {
	path := filepath.Join(dir, BestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Best{}, err
	}
	f := strings.Fields(string(b))
	bad := func(why string) (Best, error) {
		return Best{}, fmt.Errorf("%s: %s; delete it and the next epoch writes it again", path, why)
	}
	if len(f) != 3 {
		return bad(fmt.Sprintf("want \"FILE METRIC VALUE\", got %d fields", len(f)))
	}
	if !strings.HasPrefix(f[0], "step-") || !strings.HasSuffix(f[0], ".safetensors") || sidecar(f[0]) || strings.ContainsAny(f[0], `/\`) {
		return bad(fmt.Sprintf("%q is not a checkpoint file name", f[0]))
	}
	v, err := strconv.ParseFloat(f[2], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return bad(fmt.Sprintf("value %q is not a finite number", f[2]))
	}
	return Best{File: f[0], Metric: f[1], Value: v}, nil
}

// WriteBest replaces dir's BestFile atomically.
func WriteBest(dir string, b Best) error {
	return atomicfile.Write(filepath.Join(dir, BestFile), func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s %s %s\n", b.File, b.Metric, strconv.FormatFloat(b.Value, 'g', -1, 64))
		return err
	})
}

// KeepIfBest makes the weights file path dir's best checkpoint when value
// is below the recorded one, or when none is recorded (or the record is
// unreadable, which it then replaces). It reports whether path is now the
// best.
func KeepIfBest(path, metric string, value float64) (bool, error) {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return false, nil
	}
	dir := filepath.Dir(path)
	if cur, err := ReadBest(dir); err == nil && cur.Metric == metric && cur.Value <= value {
		if _, err := os.Stat(filepath.Join(dir, cur.File)); err == nil {
			return false, nil
		}
	}
	return true, WriteBest(dir, Best{File: filepath.Base(path), Metric: metric, Value: value})
}
