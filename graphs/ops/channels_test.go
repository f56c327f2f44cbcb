package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the channel ops, with SiLU, the other op of a U-Net's blocks.

// TestUNetOpsMatchGorgonia compares SiLU, AddPerChannel and ConcatChannels
// with the same functions built from Gorgonia's primitives: values and the
// gradients of every input.
func TestUNetOpsMatchGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ps := graphs.NewParamSet()
	x := gradcheck.RandomParam(ps, "x", rng, 2, 3, 4, 5)
	x2 := gradcheck.RandomParam(ps, "x2", rng, 2, 2, 4, 5)
	v := gradcheck.RandomParam(ps, "v", rng, 2, 3)
	x.Data[0], x.Data[1] = 0, -30 // SiLU's flat tail
	cases := []struct {
		name   string
		ours   func(b *graphs.Bound) *G.Node
		theirs func(b *graphs.Bound) *G.Node
		grads  []string
	}{
		{"SiLU", func(b *graphs.Bound) *G.Node { return SiLU(b.Node(x)) },
			func(b *graphs.Bound) *G.Node { return must(G.HadamardProd(b.Node(x), must(G.Sigmoid(b.Node(x))))) }, []string{"x"}},
		{"AddPerChannel", func(b *graphs.Bound) *G.Node { return AddPerChannel(b.Node(x), b.Node(v)) },
			func(b *graphs.Bound) *G.Node {
				return must(G.BroadcastAdd(b.Node(x), Reshape(b.Node(v), 2, 3, 1, 1), nil, []byte{2, 3}))
			}, []string{"x", "v"}},
		{"ConcatChannels", func(b *graphs.Bound) *G.Node { return ConcatChannels(b.Node(x), b.Node(x2)) },
			func(b *graphs.Bound) *G.Node { return must(G.Concat(1, b.Node(x), b.Node(x2))) }, []string{"x", "x2"}},
		{"SliceChannels", func(b *graphs.Bound) *G.Node { return SliceChannels(b.Node(x), 1, 3) },
			func(b *graphs.Bound) *G.Node {
				return must(G.Slice(b.Node(x), nil, G.S(1, 3)))
			}, []string{"x"}},
		// Both halves from one tensor: the two gradient slices must stay
		// two nodes (they once hashed alike and Gorgonia merged them).
		{"ConcatChannels/shared", func(b *graphs.Bound) *G.Node { return ConcatChannels(SiLU(b.Node(x)), b.Node(x)) },
			func(b *graphs.Bound) *G.Node {
				return must(G.Concat(1, must(G.HadamardProd(b.Node(x), must(G.Sigmoid(b.Node(x))))), b.Node(x)))
			}, []string{"x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(build func(b *graphs.Bound) *G.Node) ([]float32, map[string][]float32) {
				return gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
					y = build(b)
					return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
				})
			}
			y1, g1 := run(c.ours)
			y2, g2 := run(c.theirs)
			gradcheck.AssertNear(t, "y", y1, y2)
			for _, n := range c.grads {
				gradcheck.AssertNear(t, "d"+n, g1[n], g2[n])
			}
		})
	}
}
