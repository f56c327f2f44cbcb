package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

// TestReshapeCopiesAndDifferentiates checks the copying reshape: its output
// does not alias the input (an in-place op after it must not change the
// input), and its gradient flows back in the input's shape.
func TestReshapeCopiesAndDifferentiates(t *testing.T) {
	ps := graphs.NewParamSet()
	w := ps.Add("w", 2, 3, 2)
	for i := range w.Data {
		w.Data[i] = float32(i) - 5
	}
	before := append([]float32(nil), w.Data...)
	var loss *G.Node
	var b *graphs.Bound
	if err := graphs.Build("reshape test", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		r := Reshape(b.Node(w), 3, 4)
		// Square and Add are candidates for in-place execution on r.
		sq := must(G.Square(must(G.Add(r, G.NewConstant(float32(1))))))
		loss = must(G.Sum(sq))
	}); err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(b, loss, graphs.Outputs{loss})
	if err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 3; run++ {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range before {
		if w.Data[i] != before[i] {
			t.Fatalf("input changed by ops after the reshape: %v -> %v", before, w.Data)
		}
	}
	g := prog.Grads()[0]
	for i, x := range w.Data {
		if want := 2 * (x + 1); g[i] != want {
			t.Errorf("grad[%d] = %v, want %v", i, g[i], want)
		}
	}
}
