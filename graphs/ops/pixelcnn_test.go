package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the gated PixelCNN's ops: Shift and Gate.

// TestShift checks Shift's values against the definition, for taps down,
// right, left and none, into outputs of the input's size, taller and
// narrower, and its gradient (the adjoint) against finite differences.
func TestShift(t *testing.T) {
	for _, size := range [][2]int{{4, 5}, {6, 3}, {2, 7}} {
		oh, ow := size[0], size[1]
		rng := rand.New(rand.NewPCG(21, 1))
		ps := graphs.NewParamSet()
		x := gradcheck.RandomParam(ps, "x", rng, 2, 3, 4, 5)
		taps := []Tap{{0, 2}, {0, 1}, {0, 0}, {1, 0}, {2, -1}, {0, 6}}
		var y, loss *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) {
			y = ShiftTo(b.Node(x), oh, ow, taps...)
			loss = gradcheck.WeightedSum(y, rng)
		})
		prog, lossFn := gradcheck.Compile(t, b, loss, y)
		got, s := prog.Value(y), len(taps)
		for bc := range 6 {
			for k, tap := range taps {
				for i := range oh {
					for j := range ow {
						var want float32
						if si, sj := i-tap.Down, j-tap.Right; si >= 0 && si < 4 && sj >= 0 && sj < 5 {
							want = x.Data[bc*20+si*5+sj]
						}
						if v := got[(bc*s+k)*oh*ow+i*ow+j]; v != want {
							t.Fatalf("%dx%d: plane %d tap %v (%d,%d) = %v, want %v", oh, ow, bc, tap, i, j, v, want)
						}
					}
				}
			}
		}
		gradcheck.Check(t, prog, lossFn, 120)
	}
}

// TestGateMatchesGorgonia compares Gate with tanh and sigmoid of the halves
// built from Gorgonia's ops, values and gradients, and checks the gradient
// against finite differences.
func TestGateMatchesGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 2))
	ps := graphs.NewParamSet()
	x := gradcheck.RandomParam(ps, "x", rng, 3, 4, 3, 5)
	x.Data[0], x.Data[1], x.Data[30] = 0, -20, 25 // the flat tails
	run := func(build func(b *graphs.Bound) *G.Node) ([]float32, map[string][]float32) {
		return gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
			y = build(b)
			return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
		})
	}
	y1, g1 := run(func(b *graphs.Bound) *G.Node { return Gate(b.Node(x)) })
	y2, g2 := run(func(b *graphs.Bound) *G.Node {
		a, g := SliceChannels(b.Node(x), 0, 2), SliceChannels(b.Node(x), 2, 4)
		return must(G.HadamardProd(must(G.Tanh(a)), must(G.Sigmoid(g))))
	})
	gradcheck.AssertNear(t, "y", y1, y2)
	gradcheck.AssertNear(t, "dx", g1["x"], g2["x"])

	var loss *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		loss = gradcheck.WeightedSum(Gate(b.Node(x)), rng)
	})
	prog, lossFn := gradcheck.Compile(t, b, loss)
	gradcheck.Check(t, prog, lossFn, 180)
}
