package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of Softplus and BCEWithLogitsRows: against Gorgonia's own ops, against
// finite differences, and their sampling paths against their training paths.

// extremes puts large logits into p, where a naive log(1 + e^x) overflows
// and a float32 sigmoid saturates. (Not 0: there the primitives' Abs and
// Rectify have kinks whose gradients Gorgonia picks arbitrarily.)
func extremes(p *graphs.Param) {
	copy(p.Data, []float32{40, -40, 15, -15, 1e-3})
}

func TestSoftplusMatchesGorgonia(t *testing.T) {
	ps := graphs.NewParamSet()
	rng := rand.New(rand.NewPCG(3, 1))
	x := gradcheck.NormalParam(ps, "x", 3, rng, 6, 9)
	extremes(x)
	run := func(ours bool) ([]float32, []float32) {
		y, grads := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
			if ours {
				y = Softplus(b.Node(x))
			} else {
				y = must(G.Softplus(b.Node(x)))
			}
			return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
		})
		return y, grads["x"]
	}
	y1, g1 := run(true)
	y2, g2 := run(false)
	gradcheck.AssertNear(t, "softplus", y1, y2)
	gradcheck.AssertNear(t, "softplus gradient", g1, g2)
	// Without a backward pass (sampling) the values are the same bits.
	var y *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) { y = Softplus(b.Node(x)) })
	prog := gradcheck.Run(t, b, nil, y)
	defer prog.Close()
	for i, v := range prog.Value(y) {
		if v != y1[i] {
			t.Fatalf("softplus(%v) = %v without backward, %v with", x.Data[i], v, y1[i])
		}
	}
}

func TestSoftplusGradient(t *testing.T) {
	ps := graphs.NewParamSet()
	rng := rand.New(rand.NewPCG(3, 2))
	x := gradcheck.NormalParam(ps, "x", 2, rng, 4, 5)
	var loss *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		loss = gradcheck.WeightedSum(Softplus(b.Node(x)), rng)
	})
	gradcheck.CheckTrainable(t, b, loss, ps.List(), 20)
}

// bceReference is the row sums of the cross-entropy built from Gorgonia's
// primitives, as nets.BCEWithLogits does.
func bceReference(l, x *G.Node) *G.Node {
	negAbs := must(G.Neg(must(G.Abs(l))))
	tail := must(G.Log1p(must(G.Exp(negAbs))))
	loss := must(G.Sub(must(G.Rectify(l)), must(G.HadamardProd(x, l))))
	return must(G.Sum(must(G.Add(loss, tail)), 1))
}

func TestBCEWithLogitsRowsMatchesPrimitives(t *testing.T) {
	ps := graphs.NewParamSet()
	rng := rand.New(rand.NewPCG(4, 1))
	l := gradcheck.NormalParam(ps, "logits", 4, rng, 5, 7)
	extremes(l)
	target := make([]float32, 35)
	for i := range target {
		target[i] = rng.Float32() // gray targets; binary ones are a special case
	}
	run := func(ours bool) ([]float32, []float32) {
		y, grads := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
			x, data := graphs.Input(b.G, "target", 5, 7)
			copy(data, target)
			if ours {
				y = BCEWithLogitsRows(b.Node(l), x)
			} else {
				y = bceReference(b.Node(l), x)
			}
			return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
		})
		return y, grads["logits"]
	}
	y1, g1 := run(true)
	y2, g2 := run(false)
	gradcheck.AssertNear(t, "bce rows", y1, y2)
	gradcheck.AssertNear(t, "bce rows gradient", g1, g2)
	for i, v := range y1 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 {
			t.Errorf("row %d: %v, want finite and non-negative", i, v)
		}
	}
}

func TestBCEWithLogitsRowsGradient(t *testing.T) {
	ps := graphs.NewParamSet()
	rng := rand.New(rand.NewPCG(4, 2))
	l := gradcheck.NormalParam(ps, "logits", 2, rng, 3, 8)
	var loss *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		x, data := graphs.Input(b.G, "target", 3, 8)
		for i := range data {
			data[i] = float32(rng.IntN(2))
		}
		loss = gradcheck.WeightedSum(BCEWithLogitsRows(b.Node(l), x), rng)
	})
	gradcheck.CheckTrainable(t, b, loss, ps.List(), 24)
}

// TestLogisticIsAccurate compares the float32 softplus and sigmoid with
// float64 ones over the whole range of logits, extremes and NaN included.
func TestLogisticIsAccurate(t *testing.T) {
	var xs []float32
	for i := -200000; i <= 200000; i++ {
		xs = append(xs, float32(i)/1000)
	}
	xs = append(xs, 86.9, 87, 87.1, 103, 200, -86.9, -87, -87.1, -103, -200, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -1e-30)
	for _, x := range xs {
		sp, sg := logistic(x)
		v := float64(x)
		wantSp := math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
		wantSg := 1 / (1 + math.Exp(-v))
		if math.Abs(float64(sp)-wantSp) > 3e-7*math.Max(wantSp, 1e-30) || math.Abs(float64(sg)-wantSg) > 3e-7 {
			t.Fatalf("logistic(%v) = %v, %v; want %v, %v", x, sp, sg, wantSp, wantSg)
		}
	}
	if sp, sg := logistic(float32(math.NaN())); sp == sp || sg == sg {
		t.Errorf("logistic(NaN) = %v, %v, want NaN", sp, sg)
	}
}
