package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the quantizer's ops: the nearest code against a search in
// float64, the straight-through gradient and the stop gradient against
// finite differences of what they stand for.

// nearestRef is the index of the code nearest v, in float64.
func nearestRef(v []float64, book []float32, k, d int) int {
	best, bestDist := 0, math.Inf(1)
	for j := 0; j < k; j++ {
		var s float64
		for c := 0; c < d; c++ {
			diff := v[c] - float64(book[j*d+c])
			s += diff * diff
		}
		if s < bestDist {
			best, bestDist = j, s
		}
	}
	return best
}

// vqCase is a z (B, D, H, W) and a codebook (K, D) drawn from N(0, 1).
func vqCase(rng *rand.Rand) (ps *graphs.ParamSet, z, book *graphs.Param) {
	ps = graphs.NewParamSet()
	z = gradcheck.RandomParam(ps, "z", rng, 3, 4, 2, 5)
	book = gradcheck.RandomParam(ps, "codebook", rng, 7, 4)
	return ps, z, book
}

func TestVectorQuantizePicksTheNearestCode(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	_, z, book := vqCase(rng)
	// Code 5 repeats code 2: a tie goes to the lower index.
	copy(book.Data[5*4:6*4], book.Data[2*4:3*4])
	// Position (0, 0, 0) is code 2 itself.
	for c := 0; c < 4; c++ {
		z.Data[c*10] = book.Data[2*4+c]
	}
	codes := &Codes{}
	var y *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) { y = VectorQuantize(b.Node(z), b.Node(book), codes) })
	prog := gradcheck.Run(t, b, nil, y)
	out := prog.Value(y)
	used := map[int32]bool{}
	for i := 0; i < 3; i++ {
		for p := 0; p < 10; p++ {
			v := make([]float64, 4)
			for c := range v {
				v[c] = float64(z.Data[(i*4+c)*10+p])
			}
			want := nearestRef(v, book.Data, 7, 4)
			if got := codes.Index[i*10+p]; int(got) != want {
				t.Fatalf("image %d position %d: code %d, want %d", i, p, got, want)
			}
			used[codes.Index[i*10+p]] = true
			for c := 0; c < 4; c++ {
				if out[(i*4+c)*10+p] != book.Data[want*4+c] {
					t.Fatalf("image %d position %d channel %d: %v, want code %d's %v", i, p, c, out[(i*4+c)*10+p], want, book.Data[want*4+c])
				}
			}
		}
	}
	if codes.Index[0] != 2 {
		t.Errorf("a latent equal to codes 2 and 5 got code %d, want 2", codes.Index[0])
	}
	if len(used) < 3 {
		t.Errorf("only %d codes used: the test does not exercise the search", len(used))
	}
}

// TestStraightThroughGradient checks the gradient of
// sum(w * q) + 0.5 * sum((z - sg(q))^2), q = VectorQuantize(z), against
// finite differences of what the estimator differentiates:
// sum(w * (z + c)) + 0.5 * sum((z - e)^2) with c = e - z and e the codes
// picked at the base point, held fixed.
func TestStraightThroughGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2))
	_, z, book := vqCase(rng)
	var loss *G.Node
	var w []float32
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		q := VectorQuantize(b.Node(z), b.Node(book), nil)
		var wn *G.Node
		wn, w = graphs.Input(b.G, "w", q.Shape()...)
		gradcheck.FillNormal(rng, w)
		diff := must(G.Sub(b.Node(z), StopGradient(q)))
		commit := must(G.HadamardProd(must(G.Sum(must(G.Square(diff)))), G.NewConstant(float32(0.5))))
		loss = must(G.Add(must(G.Sum(must(G.HadamardProd(q, wn)))), commit))
	})
	prog, err := graphs.CompileWRT(b, loss, graphs.Outputs{loss}, []*graphs.Param{z})
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	// The codes at the base point: the graph's forward, read back.
	var e []float32
	var qn *G.Node
	bq := gradcheck.Build(t, func(b *graphs.Bound) { qn = VectorQuantize(b.Node(z), b.Node(book), nil) })
	e = slices.Clone(gradcheck.Run(t, bq, nil, qn).Value(qn))
	z0 := slices.Clone(z.Data)
	surrogate := func() float64 {
		var s float64
		for i, v := range z.Data {
			zi, ei := float64(v), float64(e[i])
			s += float64(w[i])*(zi+ei-float64(z0[i])) + 0.5*(zi-ei)*(zi-ei)
		}
		return s
	}
	if got, want := prog.Scalar(loss), surrogate(); math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
		t.Fatalf("loss %v, want %v", got, want)
	}
	gradcheck.Check(t, prog, surrogate, 40)
}

// TestStopGradientPassesValuesNotGradients checks sg(x): its value is x's,
// and the gradient of sum(w * sg(x)) + sum(x) with respect to x is 1.
func TestStopGradientPassesValuesNotGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ps := graphs.NewParamSet()
	x := gradcheck.RandomParam(ps, "x", rng, 3, 5)
	y, grads := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
		y = StopGradient(b.Node(x))
		return y, must(G.Add(gradcheck.WeightedSum(y, rng), must(G.Sum(b.Node(x)))))
	})
	if !slices.Equal(y, x.Data) {
		t.Errorf("sg(x) = %v, want %v", y, x.Data)
	}
	for i, g := range grads["x"] {
		if g != 1 {
			t.Fatalf("gradient[%d] = %v, want 1", i, g)
		}
	}
}
