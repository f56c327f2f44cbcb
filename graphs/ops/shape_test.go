package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the shape ops: Reshape and Upsample2x.

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
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		r := Reshape(b.Node(w), 3, 4)
		// Square and Add are candidates for in-place execution on r.
		sq := must(G.Square(must(G.Add(r, G.NewConstant(float32(1))))))
		loss = must(G.Sum(sq))
	})
	prog := gradcheck.Run(t, b, loss, loss) // the first of three runs
	for run := 1; run < 3; run++ {
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

func TestUpsample2x(t *testing.T) {
	ps := graphs.NewParamSet()
	x := ps.Add("x", 2, 3, 2, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	gradcheck.FillNormal(rng, x.Data)
	var y, loss *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		y = Upsample2x(b.Node(x))
		loss = gradcheck.WeightedSum(y, rng)
	})
	prog, lossFn := gradcheck.Compile(t, b, loss, y)
	got := prog.Value(y)
	for p := 0; p < 6; p++ {
		for r := 0; r < 4; r++ {
			for c := 0; c < 6; c++ {
				if want := x.Data[p*6+(r/2)*3+c/2]; got[p*24+r*6+c] != want {
					t.Fatalf("plane %d (%d,%d) = %v, want %v", p, r, c, got[p*24+r*6+c], want)
				}
			}
		}
	}
	gradcheck.Check(t, prog, lossFn, 36)
}
