package flow

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// TestRealNVPMatchesPyTorch loads the MLP RealNVP's state_dict into
// flow_ref.py's RealNVP (strict=True) and compares log p(y) of a batch.
func TestRealNVPMatchesPyTorch(t *testing.T) {
	m := modeltest.New(t, "realnvp", NewRealNVP, nil, modeltest.Set("realnvp.arch", "mlp")).(*Flow).net.(realnvpNet)
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
	models.FillNormal(y, rng)
	ours := make([]float32, batch)
	for r := range batch {
		copy(g.X, y[r*m.D:(r+1)*m.D])
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		ours[r] = -float32(prog.Scalar(g.NLL))
	}
	tensors := append(modeltest.StateDict(m.params()), safetensors.Tensor{Name: "input.y", Shape: []int{batch, m.D}, Data: y})
	theirs := modeltest.RunPyTorch(t, "flow_in_pytorch.py", "flow_ref.py", tensors, "log_prob")
	// log p is about -1000 nats here: compare relative to that.
	if worst := modeltest.MaxAbsDiff(t, ours, theirs); worst > 1e-5*math.Abs(float64(theirs[0])) {
		t.Errorf("log p differs from PyTorch's RealNVP by up to %.3g (ours %v, theirs %v)", worst, ours, theirs)
	}
}
