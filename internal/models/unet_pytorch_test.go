package models

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// TestUNetMatchesPyTorch runs the default UNet-S here and, through
// scripts/unet_in_pytorch.py, the reference's own UNet class on the same
// weights (loaded with strict=True) and inputs, and compares the noise
// predictions. It needs Debian's python3-torch (`make pytorch`) and
// ../shared/bench; where either is missing it is skipped.
func TestUNetMatchesPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("PyTorch is not installed (make pytorch)")
	}
	if _, err := os.Stat("../../../shared/bench/ddpm_ref.py"); err != nil {
		t.Skip("../shared/bench/ddpm_ref.py is not here")
	}
	m := newDefault(t, "ddpm").(*DDPM)
	rng := rand.New(rand.NewPCG(8, 8))
	// Nonzero GroupNorm affine parameters, so that they are exercised too.
	for _, p := range m.Net.Params.List() {
		if filepath.Ext(p.Name) == ".bias" {
			for i := range p.Data {
				p.Data[i] = float32(0.1 * rng.NormFloat64())
			}
		}
	}
	const batch = 3
	ts := []int{0, 417, 999}
	ng, err := graphs.BuildNoiseGraph(m.Net, batch, false)
	if err != nil {
		t.Fatal(err)
	}
	fillNormal(ng.XT, rng)
	graphs.TimestepEmbedding(ng.TSin, ts, m.Net.Ch)
	prog, err := graphs.Compile(ng.Bound, nil, graphs.Outputs{ng.Pred})
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	ours := prog.Value(ng.Pred)

	var tensors []safetensors.Tensor
	for _, p := range m.Net.Params.List() {
		tensors = append(tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
	}
	tf := make([]float32, batch)
	for i, v := range ts {
		tf[i] = float32(v)
	}
	tensors = append(tensors,
		safetensors.Tensor{Name: "input.x", Shape: []int{batch, 1, 28, 28}, Data: ng.XT},
		safetensors.Tensor{Name: "input.t", Shape: []int{batch}, Data: tf})
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "out.safetensors")
	if err := safetensors.WriteFile(in, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(py, "../../scripts/unet_in_pytorch.py", in, out).CombinedOutput(); err != nil {
		t.Fatalf("unet_in_pytorch.py: %v\n%s", err, b)
	}
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	theirs, ok := f.Lookup("eps")
	if !ok || len(theirs.Data) != len(ours) {
		t.Fatalf("PyTorch's output: %v", theirs.Shape)
	}
	worst := 0.0
	for i := range ours {
		worst = math.Max(worst, math.Abs(float64(ours[i]-theirs.Data[i])))
	}
	if worst > 1e-4 {
		t.Errorf("largest difference from PyTorch's UNet %.3g, want < 1e-4", worst)
	}
	t.Logf("largest difference from PyTorch's UNet: %.3g", worst)
}
