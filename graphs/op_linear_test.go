package graphs

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// TestLinearOpMatchesGorgoniaOps compares the fused linear op with the same
// layer built from Gorgonia's Mul, Transpose and BroadcastAdd: values and the
// gradients of x, W and b.
func TestLinearOpMatchesGorgoniaOps(t *testing.T) {
	for _, shape := range [][3]int{{1, 1, 1}, {4, 7, 3}, {33, 65, 17}} {
		batch, in, out := shape[0], shape[1], shape[2]
		rng := rand.New(rand.NewPCG(uint64(batch), uint64(in)))
		ps := NewParamSet()
		l := &Linear{In: in, Out: out, Weight: ps.Add("w", out, in), Bias: ps.Add("b", out)}
		xp := ps.Add("x", batch, in)
		for _, p := range ps.List() {
			for i := range p.Data {
				p.Data[i] = float32(rng.NormFloat64())
			}
		}
		run := func(fused bool) (y []float32, grads [][]float32) {
			var b *Bound
			var yn, loss *G.Node
			if err := Build("linear test", func() {
				g := G.NewGraph()
				b = Bind(g)
				x := b.Node(xp)
				if fused {
					yn = l.Forward(b, x)
				} else {
					yn = must(G.Mul(x, must(G.Transpose(b.Node(l.Weight)))))
					yn = must(G.BroadcastAdd(yn, b.Node(l.Bias, 1, out), nil, []byte{0}))
				}
				// A loss with a non-uniform gradient: sum(y^2)/2, dy = y.
				loss = must(G.HadamardProd(must(G.Sum(must(G.Square(yn)))), scalar(0.5)))
			}); err != nil {
				t.Fatal(err)
			}
			prog, err := Compile(b, loss, Outputs{yn})
			if err != nil {
				t.Fatal(err)
			}
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			byName := map[string][]float32{}
			for i, p := range prog.Params() {
				byName[p.Name] = append([]float32(nil), prog.Grads()[i]...)
			}
			return append([]float32(nil), prog.Value(yn)...), [][]float32{byName["x"], byName["w"], byName["b"]}
		}
		y1, g1 := run(true)
		y2, g2 := run(false)
		close := func(what string, a, b []float32) {
			if len(a) != len(b) {
				t.Fatalf("%v %s: %d vs %d values", shape, what, len(a), len(b))
			}
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-4*math.Max(1, math.Abs(float64(b[i]))) {
					t.Fatalf("%v %s[%d]: fused %v, Gorgonia %v", shape, what, i, a[i], b[i])
				}
			}
		}
		close("y", y1, y2)
		for i, name := range []string{"dx", "dW", "db"} {
			close(name, g1[i], g2[i])
		}
	}
}
