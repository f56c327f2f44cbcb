package modeltest

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// RunPyTorch writes tensors (a state_dict plus inputs) to a file, runs one
// of scripts/*_in_pytorch.py on it with Debian's python3-torch, and returns
// the output tensor named out. It skips the test where PyTorch or the
// reference script in ../shared/bench (none: "") is missing (`make pytorch`).
func RunPyTorch(t *testing.T, script, reference string, tensors []safetensors.Tensor, out string) []float32 {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..", "..") // the repository
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("PyTorch is not installed (make pytorch)")
	}
	if reference != "" {
		if _, err := os.Stat(filepath.Join(root, "..", "shared", "bench", reference)); err != nil {
			t.Skip("../shared/bench/" + reference + " is not here")
		}
	}
	dir := t.TempDir()
	in, res := filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "out.safetensors")
	if err := safetensors.WriteFile(in, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(py, filepath.Join(root, "scripts", script), in, res).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, b)
	}
	f, err := safetensors.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := f.Lookup(out)
	if !ok {
		t.Fatalf("%s wrote no %s", script, out)
	}
	return v.Data
}

// StateDict is the tensors of ps as a safetensors file holds them.
func StateDict(ps []*graphs.Param) []safetensors.Tensor {
	var ts []safetensors.Tensor
	for _, p := range ps {
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
	}
	return ts
}

// MaxAbsDiff is the largest |a_i - b_i|; it fails the test on a length mismatch.
func MaxAbsDiff(t *testing.T, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d values vs %d", len(a), len(b))
	}
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i]-b[i])))
	}
	return worst
}
