package graphs

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// weightedSum builds loss = sum(y * w) for fixed random w, so that every
// output element gets a different gradient.
func weightedSum(y *G.Node, rng *rand.Rand) *G.Node {
	w, data := Input(y.Graph(), "loss_weights", y.Shape()...)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return must(G.Sum(must(G.HadamardProd(y, w))))
}

func TestBatchNormGradients(t *testing.T) {
	for _, shape := range [][]int{{4, 3}, {2, 3, 2, 2}} {
		ps := NewParamSet()
		rng := rand.New(rand.NewPCG(7, uint64(len(shape))))
		bn := NewBatchNorm(ps, "bn", 3, 0.02, rng)
		x := ps.Add("x", shape...)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64()*2 + 1)
		}
		for i := range bn.Bias.Data {
			bn.Bias.Data[i] = float32(rng.NormFloat64())
		}
		var b *Bound
		var loss *G.Node
		if err := Build("bn test", func() {
			b = Bind(G.NewGraph())
			loss = weightedSum(bn.Forward(b, b.Node(x), true), rng)
		}); err != nil {
			t.Fatal(err)
		}
		prog, err := CompileWRT(b, loss, Outputs{loss}, []*Param{x, bn.Weight, bn.Bias})
		if err != nil {
			t.Fatal(err)
		}
		checkGradients(t, prog, func() float64 {
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			return prog.Scalar(loss)
		}, 24)
	}
}

// TestBatchNormStatistics checks the training output (zero mean, unit
// variance per channel before the affine part), the running-statistics
// update and the evaluation mode that uses them.
func TestBatchNormStatistics(t *testing.T) {
	ps := NewParamSet()
	bn := NewBatchNorm(ps, "bn", 2, 0, nil)
	x := ps.Add("x", 3, 2, 1, 2) // channel 0: 1..6 style values below
	copy(x.Data, []float32{1, 2, 10, 20, 3, 4, 30, 40, 5, 6, 50, 60})
	run := func(train bool) []float32 {
		var b *Bound
		var y *G.Node
		if err := Build("bn stats", func() {
			b = Bind(G.NewGraph())
			y = bn.Forward(b, b.Node(x), train)
		}); err != nil {
			t.Fatal(err)
		}
		prog, err := Compile(b, nil, Outputs{y})
		if err != nil {
			t.Fatal(err)
		}
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), prog.Value(y)...)
	}
	y := run(true)
	for ch := 0; ch < 2; ch++ {
		var s, sq float64
		for i := 0; i < 3; i++ {
			for j := 0; j < 2; j++ {
				v := float64(y[(i*2+ch)*2+j])
				s += v
				sq += v * v
			}
		}
		if math.Abs(s/6) > 1e-5 || math.Abs(sq/6-1) > 1e-3 {
			t.Errorf("channel %d: mean %v, variance %v after normalization", ch, s/6, sq/6)
		}
	}
	// Channel 0 holds 1..6: mean 3.5, unbiased variance 3.5.
	if got := bn.RunningMean.Data[0]; math.Abs(float64(got)-0.35) > 1e-6 {
		t.Errorf("running mean %v, want 0.1*3.5", got)
	}
	if got := bn.RunningVar.Data[0]; math.Abs(float64(got)-(0.9+0.35)) > 1e-5 {
		t.Errorf("running var %v, want 0.9*1 + 0.1*3.5", got)
	}
	if bn.NumBatchesTracked.Data[0] != 1 {
		t.Errorf("num_batches_tracked %v, want 1", bn.NumBatchesTracked.Data[0])
	}
	bn.RunningMean.Data[0], bn.RunningVar.Data[0] = 1, 4-1e-5
	if y := run(false); math.Abs(float64(y[0])-0) > 1e-5 || math.Abs(float64(y[1])-0.5) > 1e-5 {
		t.Errorf("evaluation mode gave %v, want (x-1)/2", y[:2])
	}
}

func TestUpsample2x(t *testing.T) {
	ps := NewParamSet()
	x := ps.Add("x", 2, 3, 2, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	var b *Bound
	var y, loss *G.Node
	if err := Build("upsample test", func() {
		b = Bind(G.NewGraph())
		y = Upsample2x(b.Node(x))
		loss = weightedSum(y, rng)
	}); err != nil {
		t.Fatal(err)
	}
	prog, lossFn := compileChecked(t, b, loss, y)
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
	checkGradients(t, prog, lossFn, 36)
}
