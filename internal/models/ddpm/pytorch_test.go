package ddpm

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// TestUNetMatchesPyTorch runs the default UNet-S here and, through
// scripts/unet_in_pytorch.py, the reference's own UNet class on the same
// weights (loaded with strict=True) and inputs, and compares the noise
// predictions.
func TestUNetMatchesPyTorch(t *testing.T) {
	m := modeltest.New(t, "ddpm", New, nil).(*DDPM)
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
	ng, err := nets.BuildNoiseGraph(m.Net, batch, false)
	if err != nil {
		t.Fatal(err)
	}
	models.FillNormal(ng.XT, rng)
	layers.TimestepEmbedding(ng.TSin, ts, m.Net.Ch)
	prog, err := graphs.Compile(ng.Bound, nil, graphs.Outputs{ng.Pred})
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	tf := make([]float32, batch)
	for i, v := range ts {
		tf[i] = float32(v)
	}
	tensors := append(modeltest.StateDict(m.Net.Params.List()),
		safetensors.Tensor{Name: "input.x", Shape: []int{batch, 1, 28, 28}, Data: ng.XT},
		safetensors.Tensor{Name: "input.t", Shape: []int{batch}, Data: tf})
	theirs := modeltest.RunPyTorch(t, "unet_in_pytorch.py", "ddpm_ref.py", tensors, "eps")
	worst := modeltest.MaxAbsDiff(t, prog.Value(ng.Pred), theirs)
	if worst > 1e-4 {
		t.Errorf("largest difference from PyTorch's UNet %.3g, want < 1e-4", worst)
	}
	t.Logf("largest difference from PyTorch's UNet: %.3g", worst)
}
