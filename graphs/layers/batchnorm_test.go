package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

func TestBatchNormGradients(t *testing.T) {
	for _, shape := range [][]int{{4, 3}, {2, 3, 2, 2}} {
		ps := graphs.NewParamSet()
		rng := rand.New(rand.NewPCG(7, uint64(len(shape))))
		bn := NewBatchNorm(ps, "bn", 3, 0.02, rng)
		x := ps.Add("x", shape...)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64()*2 + 1)
		}
		for i := range bn.Bias.Data {
			bn.Bias.Data[i] = float32(rng.NormFloat64())
		}
		var b *graphs.Bound
		var loss *G.Node
		if err := graphs.Build("bn test", func() {
			b = graphs.Bind(G.NewGraph())
			loss = gradcheck.WeightedSum(bn.Forward(b, b.Node(x), true), rng)
		}); err != nil {
			t.Fatal(err)
		}
		prog, err := graphs.CompileWRT(b, loss, graphs.Outputs{loss}, []*graphs.Param{x, bn.Weight, bn.Bias})
		if err != nil {
			t.Fatal(err)
		}
		gradcheck.Check(t, prog, func() float64 {
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
	ps := graphs.NewParamSet()
	bn := NewBatchNorm(ps, "bn", 2, 0, nil)
	x := ps.Add("x", 3, 2, 1, 2) // channel 0: 1..6 style values below
	copy(x.Data, []float32{1, 2, 10, 20, 3, 4, 30, 40, 5, 6, 50, 60})
	run := func(train bool) []float32 {
		var b *graphs.Bound
		var y *G.Node
		if err := graphs.Build("bn stats", func() {
			b = graphs.Bind(G.NewGraph())
			y = bn.Forward(b, b.Node(x), train)
		}); err != nil {
			t.Fatal(err)
		}
		prog, err := graphs.Compile(b, nil, graphs.Outputs{y})
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
