package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// TestMACsCounted runs a convolution on a graph input (no dL/dx), a strided
// convolution, a transposed convolution and two linear layers, forward only
// and forward and backward, with the first convolution by Winograd's
// algorithm and by im2col, and checks the multiply-accumulates counted
// against the direct count of each pass.
func TestMACsCounted(t *testing.T) {
	defer func(old int) { winogradMinChannels = old }(winogradMinChannels)
	rng := rand.New(rand.NewPCG(7, 7))
	ps := graphs.NewParamSet()
	w1 := gradcheck.NormalParam(ps, "c1.weight", 0.3, rng, 4, 3, 3, 3)
	b1 := gradcheck.NormalParam(ps, "c1.bias", 0.3, rng, 4)
	w2 := gradcheck.NormalParam(ps, "c2.weight", 0.3, rng, 6, 4, 3, 3)
	w3 := gradcheck.NormalParam(ps, "t3.weight", 0.3, rng, 6, 2, 4, 4)
	l1w, l1b := gradcheck.NormalParam(ps, "l1.weight", 0.3, rng, 7, 5), gradcheck.NormalParam(ps, "l1.bias", 0.3, rng, 7)
	l2w, l2b := gradcheck.NormalParam(ps, "l2.weight", 0.3, rng, 3, 7), gradcheck.NormalParam(ps, "l2.bias", 0.3, rng, 3)
	build := func(b *graphs.Bound) (y, u, loss *G.Node) {
		x, xs := graphs.Input(b.G, "x", 2, 3, 8, 8)
		gradcheck.FillNormal(rng, xs)
		z, zs := graphs.Input(b.G, "z", 2, 5)
		gradcheck.FillNormal(rng, zs)
		h := Conv2d(x, b.Node(w1), b.Node(b1, 1, 4), 1, 1, true) // (2, 4, 8, 8)
		h = Conv2d(h, b.Node(w2), nil, 2, 1, false)              // (2, 6, 4, 4)
		y = ConvTranspose2d(h, b.Node(w3), nil, 2, 1, false)     // (2, 2, 8, 8)
		u = Linear(z, b.Node(l1w), b.Node(l1b, 1, 7), true)      // (2, 7)
		u = Linear(u, b.Node(l2w), b.Node(l2b, 1, 3), false)     // (2, 3)
		r := rand.New(rand.NewPCG(1, 1))
		return y, u, must(G.Add(gradcheck.WeightedSum(y, r), gradcheck.WeightedSum(u, r)))
	}
	// Forward MACs of each layer, batch 2: B*O*Ho*Wo*C*K*K, and for the
	// transposed convolution B*In*H*W*Out*K*K.
	c1, c2, t3 := 2*4*8*8*3*9, 2*6*4*4*4*9, 2*6*4*4*2*16
	l1, l2 := 2*5*7, 2*7*3
	forward := c1 + c2 + t3 + l1 + l2
	// Backward: dW everywhere, dx except for the two layers on inputs.
	backward := c1 + 2*c2 + 2*t3 + l1 + 2*l2
	for _, run := range []struct {
		winograd, train bool
	}{{false, false}, {false, true}, {true, false}, {true, true}} {
		winogradMinChannels = 1 << 30
		if run.winograd {
			winogradMinChannels = 1
		}
		train := run.train
		var y, u, loss *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) { y, u, loss = build(b) })
		if !train {
			loss = nil
		}
		before := MACs()
		gradcheck.Run(t, b, loss, y, u)
		got, want := MACs()-before, int64(forward)
		if train {
			want += int64(backward)
		}
		if got != want {
			t.Errorf("Winograd %v, backward %v: %d MACs counted, want %d", run.winograd, train, got, want)
		}
	}
}
