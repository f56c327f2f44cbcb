package models

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// TestUNetMatchesPyTorch runs the default UNet-S here and, through
// scripts/unet_in_pytorch.py, the reference's own UNet class on the same
// weights (loaded with strict=True) and inputs, and compares the noise
// predictions.
func TestUNetMatchesPyTorch(t *testing.T) {
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
	ng, err := nets.BuildNoiseGraph(m.Net, batch, false)
	if err != nil {
		t.Fatal(err)
	}
	fillNormal(ng.XT, rng)
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
	tensors := append(stateDict(m.Net.Params.List()),
		safetensors.Tensor{Name: "input.x", Shape: []int{batch, 1, 28, 28}, Data: ng.XT},
		safetensors.Tensor{Name: "input.t", Shape: []int{batch}, Data: tf})
	theirs := runPyTorch(t, "unet_in_pytorch.py", "ddpm_ref.py", tensors, "eps")
	worst := maxAbsDiff(t, prog.Value(ng.Pred), theirs)
	if worst > 1e-4 {
		t.Errorf("largest difference from PyTorch's UNet %.3g, want < 1e-4", worst)
	}
	t.Logf("largest difference from PyTorch's UNet: %.3g", worst)
}

// TestRealNVPMatchesPyTorch loads the default RealNVP's state_dict into
// flow_ref.py's RealNVP (strict=True) and compares log p(y) of a batch.
func TestRealNVPMatchesPyTorch(t *testing.T) {
	m := newDefault(t, "realnvp").(*Flow).net.(realnvpNet)
	const batch = 4
	g, err := m.BuildNLL(1)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(g.Bound, nil, graphs.Outputs{g.NLL})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	y := make([]float32, batch*m.D)
	fillNormal(y, rng)
	ours := make([]float32, batch)
	for r := range batch {
		copy(g.X, y[r*m.D:(r+1)*m.D])
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		ours[r] = -float32(prog.Scalar(g.NLL))
	}
	tensors := append(stateDict(m.params()), safetensors.Tensor{Name: "input.y", Shape: []int{batch, m.D}, Data: y})
	theirs := runPyTorch(t, "flow_in_pytorch.py", "flow_ref.py", tensors, "log_prob")
	// log p is about -1000 nats here: compare relative to that.
	if worst := maxAbsDiff(t, ours, theirs); worst > 1e-5*math.Abs(float64(theirs[0])) {
		t.Errorf("log p differs from PyTorch's RealNVP by up to %.3g (ours %v, theirs %v)", worst, ours, theirs)
	}
}
