package graphs_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
)

// The arena's test needs ops that skip clearing reused outputs, and a
// network with many of them: it lives outside package graphs to build a
// UNet, and reaches the arena through export_test.go.

// TestStaleArenaValuesDoNotLeak poisons every reused op output with NaN
// between two identical runs of a UNet training graph: ops that skip
// clearing their outputs must write every element, so the loss and every
// gradient come out the same.
func TestStaleArenaValuesDoNotLeak(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	m, err := nets.NewUNet(nets.UNetConfig{Ch: 8, TEmb: 8, Groups: 2}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ng, err := nets.BuildNoiseGraph(m, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ng.XT {
		ng.XT[i] = float32(rng.NormFloat64())
		ng.Target[i] = float32(rng.NormFloat64())
		ng.Weight[i] = float32(1 + rng.Float64())
	}
	layers.TimestepEmbedding(ng.TSin, []int{3, 700, 999}, 8)
	prog, err := graphs.Compile(ng.Bound, ng.Loss, graphs.Outputs{ng.Loss})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	run := func() (float64, [][]float32) {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		var grads [][]float32
		for _, g := range prog.Grads() {
			grads = append(grads, append([]float32(nil), g...))
		}
		return prog.Scalar(ng.Loss), grads
	}
	loss, grads := run()
	graphs.FillArena(prog, float32(math.NaN()))
	loss2, grads2 := run()
	if loss2 != loss {
		t.Fatalf("loss %v after poisoning the arena, %v before", loss2, loss)
	}
	for i, g := range grads {
		for j, v := range g {
			if grads2[i][j] != v {
				t.Fatalf("gradient of %s[%d]: %v after poisoning the arena, %v before", prog.Params()[i].Name, j, grads2[i][j], v)
			}
		}
	}
}
