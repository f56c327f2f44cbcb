package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of LogSoftmax: against Gorgonia's LogSoftMax where that one is
// finite, against float64 arithmetic where it is not, and against finite
// differences.

// logSoftmaxOf runs one forward and backward pass of LogSoftmax (ours) or
// Gorgonia's LogSoftMax over the (rows, cols) values x, and returns the
// output and the gradient of a fixed weighted sum of it.
func logSoftmaxOf(t *testing.T, x []float32, rows, cols int, ours bool) ([]float32, []float32) {
	t.Helper()
	ps := graphs.NewParamSet()
	p := ps.Add("x", rows, cols)
	copy(p.Data, x)
	y, grads := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
		if ours {
			y = LogSoftmax(b.Node(p))
		} else {
			y = must(G.LogSoftMax(b.Node(p)))
		}
		return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
	})
	return y, grads["x"]
}

// logSoftmax64 is the reference in float64, shifted by each row's maximum.
func logSoftmax64(x []float32, cols int) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < len(x)/cols; r++ {
		row := x[r*cols : (r+1)*cols]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		for j, v := range row {
			out[r*cols+j] = float64(v) - m - math.Log(sum)
		}
	}
	return out
}

func TestLogSoftmaxMatchesGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	x := make([]float32, 6*10)
	for i := range x {
		x[i] = 4 * float32(rng.NormFloat64())
	}
	y1, g1 := logSoftmaxOf(t, x, 6, 10, true)
	y2, g2 := logSoftmaxOf(t, x, 6, 10, false)
	gradcheck.AssertNear(t, "log softmax", y1, y2)
	gradcheck.AssertNear(t, "log softmax gradient", g1, g2)
}

// TestLogSoftmaxFarApartRows is the case Gorgonia's op gets wrong: rows
// whose logits lie far from the matrix's first logit. Each row here is
// finite and well conditioned on its own.
func TestLogSoftmaxFarApartRows(t *testing.T) {
	tests := []struct {
		name string
		x    []float32
	}{
		{"row far below the first logit", []float32{100, 0, 0, 0, 1, 2}},
		{"row whose own first logit is far above", []float32{0, 0, 0, 120, 1, 2}},
		{"a confident classifier", []float32{95, -40, 3, -60, 30, 110}},
		{"one column", []float32{5, -500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cols := 3
			if tt.name == "one column" {
				cols = 1
			}
			rows := len(tt.x) / cols
			want := logSoftmax64(tt.x, cols)
			got, grad := logSoftmaxOf(t, tt.x, rows, cols, true)
			for i := range want {
				if math.Abs(float64(got[i])-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
					t.Errorf("log softmax[%d] = %v, want %v", i, got[i], want[i])
				}
				if g := float64(grad[i]); math.IsNaN(g) || math.IsInf(g, 0) {
					t.Errorf("gradient[%d] = %v, want finite", i, g)
				}
			}
		})
	}
	// The first two cases through Gorgonia's op, to keep the reason for
	// this one on record: they are not finite there.
	for _, x := range [][]float32{{100, 0, 0, 0, 1, 2}, {0, 0, 0, 120, 1, 2}} {
		y, _ := logSoftmaxOf(t, x, 2, 3, false)
		finite := true
		for _, v := range y {
			finite = finite && !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v))
		}
		if finite {
			t.Errorf("Gorgonia's LogSoftMax(%v) = %v is finite: is the workaround still needed?", x, y)
		}
	}
}

func TestLogSoftmaxGradient(t *testing.T) {
	ps := graphs.NewParamSet()
	rng := rand.New(rand.NewPCG(7, 2))
	x := gradcheck.NormalParam(ps, "x", 2, rng, 4, 6)
	var loss *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		loss = gradcheck.WeightedSum(LogSoftmax(b.Node(x)), rng)
	})
	gradcheck.CheckTrainable(t, b, loss, ps.List(), 24)
}

func TestSoftmaxRowsSumToOne(t *testing.T) {
	x := []float32{100, 0, 0, 0, 1, 2, -300, -310, -305}
	ps := graphs.NewParamSet()
	p := ps.Add("x", 3, 3)
	copy(p.Data, x)
	var y *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) { y = Softmax(b.Node(p)) })
	prog := gradcheck.Run(t, b, nil, y)
	defer prog.Close()
	probs := prog.Value(y)
	for r := 0; r < 3; r++ {
		var sum float64
		for _, v := range probs[r*3 : r*3+3] {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("row %d sums to %v, want 1", r, sum)
		}
	}
}
