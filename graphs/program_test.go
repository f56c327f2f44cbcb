package graphs_test

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"weak"

	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
)

// TestDroppedProgramFreedByOneCollection checks that the op outputs of a
// program nobody holds any more go in one garbage collection. The tape
// machine's finalizer used to keep the graph, and with it every node's last
// value, alive for a second one: a program built after a dropped one then
// grew the heap to both programs' outputs.
func TestDroppedProgramFreedByOneCollection(t *testing.T) {
	out := runDroppedProgram(t)
	runtime.GC()
	if out.Value() != nil {
		t.Fatal("an op output of a dropped program survived a garbage collection")
	}
}

// runDroppedProgram runs a small UNet training program once and returns a
// weak pointer to its first op output.
func runDroppedProgram(t *testing.T) weak.Pointer[tensor.Dense] {
	rng := rand.New(rand.NewPCG(7, 7))
	m, err := nets.NewUNet(nets.UNetConfig{Ch: 8, TEmb: 8, Groups: 2}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ng, err := nets.BuildNoiseGraph(m, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	layers.TimestepEmbedding(ng.TSin, []int{3, 700}, 8)
	prog, err := graphs.Compile(ng.Bound, ng.Loss, graphs.Outputs{ng.Loss})
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	return weak.Make(graphs.ArenaTensor(prog, 0))
}
