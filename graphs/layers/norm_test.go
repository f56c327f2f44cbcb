package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
	"github.com/genmodel/genmodel/graphs/ops"
)

// Tests of the normalization layers: BatchNorm's gradients and statistics,
// GroupNorm's values and gradients, ActNorm's initialization.

func TestBatchNormGradients(t *testing.T) {
	for _, shape := range [][]int{{4, 3}, {2, 3, 2, 2}} {
		ps := graphs.NewParamSet()
		rng := rand.New(rand.NewPCG(7, uint64(len(shape))))
		bn := NewBatchNorm(ps, "bn", 3, 0.02, rng)
		x := ps.Add("x", shape...)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64()*2 + 1)
		}
		gradcheck.FillNormal(rng, bn.Bias.Data)
		var loss *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) {
			loss = gradcheck.WeightedSum(bn.Forward(b, b.Node(x), true), rng)
		})
		prog, err := graphs.CompileWRT(b, loss, graphs.Outputs{loss}, []*graphs.Param{x, bn.Weight, bn.Bias})
		if err != nil {
			t.Fatal(err)
		}
		gradcheck.Check(t, prog, gradcheck.LossFunc(t, prog, loss), 24)
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
		var y *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) { y = bn.Forward(b, b.Node(x), train) })
		return append([]float32(nil), gradcheck.Run(t, b, nil, y).Value(y)...)
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

// TestGroupNorm checks the op's values against the definition (per image
// and group, mean 0 and variance 1 before the affine part) and its gradients
// against finite differences, with weights and biases away from 1 and 0.
func TestGroupNorm(t *testing.T) {
	for _, groups := range []int{1, 2, 4} {
		rng := rand.New(rand.NewPCG(uint64(groups), 7))
		ps := graphs.NewParamSet()
		gn := NewGroupNorm(ps, "norm", groups, 4)
		NormalInit(gn.Weight, 1, rng)
		NormalInit(gn.Bias, 1, rng)
		x := gradcheck.RandomParam(ps, "x", rng, 3, 4, 3, 2)
		for i := range x.Data {
			x.Data[i] = 2*x.Data[i] + float32(i%5) // uneven means and scales
		}
		var y, loss *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) {
			y = gn.Forward(b, b.Node(x))
			loss = gradcheck.WeightedSum(ops.SiLU(y), rand.New(rand.NewPCG(2, 2)))
		})
		prog, lossFn := gradcheck.Compile(t, b, loss, y)
		got := prog.Value(y)
		cg, s := 4/groups, 6
		for img := range 3 {
			for g := range groups {
				var sum, sq float64
				var idx []int
				for ch := g * cg; ch < (g+1)*cg; ch++ {
					for j := range s {
						idx = append(idx, (img*4+ch)*s+j)
					}
				}
				for _, i := range idx {
					sum += float64(x.Data[i])
				}
				mean := sum / float64(len(idx))
				for _, i := range idx {
					sq += (float64(x.Data[i]) - mean) * (float64(x.Data[i]) - mean)
				}
				inv := 1 / math.Sqrt(sq/float64(len(idx))+1e-5)
				for _, i := range idx {
					ch := i / s % 4
					want := float64(gn.Weight.Data[ch])*(float64(x.Data[i])-mean)*inv + float64(gn.Bias.Data[ch])
					if math.Abs(float64(got[i])-want) > 1e-4 {
						t.Fatalf("groups %d: y[%d] = %v, want %v", groups, i, got[i], want)
					}
				}
			}
		}
		gradcheck.Check(t, prog, lossFn, 40)
	}
}

// TestActNormInit checks the data-dependent initialization: after the
// first run, the layer's output has zero mean and unit variance per
// channel, and a second batch does not initialize it again.
func TestActNormInit(t *testing.T) {
	ps := graphs.NewParamSet()
	a := NewActNorm(ps, "actnorm", 3)
	x := ps.Add("x", 4, 3, 5, 5)
	rng := rand.New(rand.NewPCG(14, 14))
	for i := range x.Data {
		ch := i / 25 % 3
		x.Data[i] = float32(float64(ch+1)*3*rng.NormFloat64() + float64(ch)*10 - 7)
	}
	var y *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) { y, _ = a.Forward(b, b.Node(x), true) })
	prog := gradcheck.Run(t, b, nil, y)
	out := prog.Value(y)
	for ch := range 3 {
		var sum, sq float64
		for i := range 4 {
			for _, v := range out[(i*3+ch)*25 : (i*3+ch+1)*25] {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
		}
		mean, variance := sum/100, sq/100-(sum/100)*(sum/100)
		if math.Abs(mean) > 1e-4 || math.Abs(variance-1) > 1e-3 {
			t.Errorf("channel %d after init: mean %v, variance %v", ch, mean, variance)
		}
	}
	if a.Initialized.Data[0] != 1 {
		t.Error("initialized flag not set")
	}
	bias := a.Bias.Data[0]
	for i := range x.Data {
		x.Data[i] *= 2
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	if a.Bias.Data[0] != bias {
		t.Error("the second batch initialized the layer again")
	}
}
