package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

func TestUpsample2x(t *testing.T) {
	ps := graphs.NewParamSet()
	x := ps.Add("x", 2, 3, 2, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	var b *graphs.Bound
	var y, loss *G.Node
	if err := graphs.Build("upsample test", func() {
		b = graphs.Bind(G.NewGraph())
		y = Upsample2x(b.Node(x))
		loss = gradcheck.WeightedSum(y, rng)
	}); err != nil {
		t.Fatal(err)
	}
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
