package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

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
	var b *graphs.Bound
	var y *G.Node
	if err := graphs.Build("actnorm", func() {
		b = graphs.Bind(G.NewGraph())
		y, _ = a.Forward(b, b.Node(x), true)
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
