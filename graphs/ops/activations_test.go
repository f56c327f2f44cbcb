package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the activations: LeakyReLU and ReLU against Gorgonia's, SiLU's
// sampling path against its training path.

// TestLeakyReLUMatchesGorgonia compares the fused activation with Gorgonia's
// LeakyRelu and Rectify: values and gradients.
func TestLeakyReLUMatchesGorgonia(t *testing.T) {
	for _, slope := range []float64{0, 0.2} {
		ps := graphs.NewParamSet()
		x := ps.Add("x", 5, 7)
		rng := rand.New(rand.NewPCG(5, 7))
		gradcheck.FillNormal(rng, x.Data)
		// At the kink itself PyTorch's gradient is the negative side's slope
		// (Gorgonia's Rectify gives 1); genmodel follows PyTorch.
		x.Data[3] = 0
		run := func(ours bool) ([]float32, []float32) {
			y, grads := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
				xn := b.Node(x)
				switch {
				case ours:
					y = LeakyReLU(xn, slope)
				case slope == 0:
					y = must(G.Rectify(xn))
				default:
					y = must(G.LeakyRelu(xn, slope))
				}
				return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
			})
			return y, grads["x"]
		}
		y1, g1 := run(true)
		y2, g2 := run(false)
		if slope == 0 && g1[3] != 0 {
			t.Errorf("ReLU gradient at x=0 is %v, want 0 as in PyTorch", g1[3])
		}
		for i := range y1 {
			if i == 3 {
				continue
			}
			if math.Abs(float64(y1[i]-y2[i])) > 1e-6 || math.Abs(float64(g1[i]-g2[i])) > 1e-6 {
				t.Fatalf("slope %v, element %d (x=%v): ours %v/%v, Gorgonia %v/%v", slope, i, x.Data[i], y1[i], g1[i], y2[i], g2[i])
			}
		}
	}
}

// TestSiLUWithoutBackward checks the sampling path, which keeps no
// sigmoid(x) and works through a small scratch buffer: over a tensor longer
// than that buffer and not a multiple of it, its values equal the training
// path's bit for bit and x * sigmoid(x) to float32 precision.
func TestSiLUWithoutBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ps := graphs.NewParamSet()
	x := gradcheck.RandomParam(ps, "x", rng, 3, 7, 11, 13)
	forward := func() []float32 {
		var y *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) { y = SiLU(b.Node(x)) })
		prog := gradcheck.Run(t, b, nil, y)
		defer prog.Close()
		return append([]float32(nil), prog.Value(y)...)
	}
	got := forward()
	trained, _ := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
		y = SiLU(b.Node(x))
		return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
	})
	for i, v := range x.Data {
		want := float64(v) / (1 + math.Exp(-float64(v)))
		if math.Abs(float64(got[i])-want) > 1e-6*math.Max(1, math.Abs(want)) || got[i] != trained[i] {
			t.Fatalf("silu(%v) = %v without backward, %v with, want %v", v, got[i], trained[i], want)
		}
	}
}
