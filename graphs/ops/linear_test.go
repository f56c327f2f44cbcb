package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// TestLinearOpMatchesGorgoniaOps compares the fused linear op with the same
// layer built from Gorgonia's Mul, Transpose and BroadcastAdd: values and the
// gradients of x, W and b.
func TestLinearOpMatchesGorgoniaOps(t *testing.T) {
	for _, shape := range [][3]int{{1, 1, 1}, {4, 7, 3}, {33, 65, 17}} {
		batch, in, out := shape[0], shape[1], shape[2]
		rng := rand.New(rand.NewPCG(uint64(batch), uint64(in)))
		ps := graphs.NewParamSet()
		w, bias := ps.Add("w", out, in), ps.Add("b", out)
		xp := ps.Add("x", batch, in)
		for _, p := range ps.List() {
			gradcheck.FillNormal(rng, p.Data)
		}
		run := func(fused bool) ([]float32, map[string][]float32) {
			return gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
				x := b.Node(xp)
				if fused {
					y = Linear(x, b.Node(w), b.Node(bias, 1, out), false)
				} else {
					y = must(G.Mul(x, must(G.Transpose(b.Node(w)))))
					y = must(G.BroadcastAdd(y, b.Node(bias, 1, out), nil, []byte{0}))
				}
				// A loss with a non-uniform gradient: sum(y^2)/2, dy = y.
				return y, must(G.HadamardProd(must(G.Sum(must(G.Square(y)))), G.NewConstant(float32(0.5))))
			})
		}
		y1, g1 := run(true)
		y2, g2 := run(false)
		gradcheck.AssertNear(t, fmt.Sprintf("%v y", shape), y1, y2)
		for _, name := range []string{"x", "w", "b"} {
			gradcheck.AssertNear(t, fmt.Sprintf("%v d%s", shape, name), g1[name], g2[name])
		}
	}
}
