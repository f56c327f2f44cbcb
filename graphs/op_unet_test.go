package graphs

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// randomParam adds a parameter of the given shape filled from N(0, 1).
func randomParam(ps *ParamSet, name string, rng *rand.Rand, shape ...int) *Param {
	p := ps.Add(name, shape...)
	normalInit(p, 1, rng)
	return p
}

// TestUNetOpsMatchGorgonia compares SiLU, AddPerChannel and ConcatChannels
// with the same functions built from Gorgonia's primitives: values and the
// gradients of every input.
func TestUNetOpsMatchGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ps := NewParamSet()
	x := randomParam(ps, "x", rng, 2, 3, 4, 5)
	x2 := randomParam(ps, "x2", rng, 2, 2, 4, 5)
	v := randomParam(ps, "v", rng, 2, 3)
	x.Data[0], x.Data[1] = 0, -30 // SiLU's flat tail
	cases := []struct {
		name   string
		ours   func(b *Bound) *G.Node
		theirs func(b *Bound) *G.Node
		grads  []string
	}{
		{"SiLU", func(b *Bound) *G.Node { return SiLU(b.Node(x)) },
			func(b *Bound) *G.Node { return must(G.HadamardProd(b.Node(x), must(G.Sigmoid(b.Node(x))))) }, []string{"x"}},
		{"AddPerChannel", func(b *Bound) *G.Node { return AddPerChannel(b.Node(x), b.Node(v)) },
			func(b *Bound) *G.Node {
				return must(G.BroadcastAdd(b.Node(x), Reshape(b.Node(v), 2, 3, 1, 1), nil, []byte{2, 3}))
			}, []string{"x", "v"}},
		{"ConcatChannels", func(b *Bound) *G.Node { return ConcatChannels(b.Node(x), b.Node(x2)) },
			func(b *Bound) *G.Node { return must(G.Concat(1, b.Node(x), b.Node(x2))) }, []string{"x", "x2"}},
		{"SliceChannels", func(b *Bound) *G.Node { return SliceChannels(b.Node(x), 1, 3) },
			func(b *Bound) *G.Node {
				return must(G.Slice(b.Node(x), nil, G.S(1, 3)))
			}, []string{"x"}},
		// Both halves from one tensor: the two gradient slices must stay
		// two nodes (they once hashed alike and Gorgonia merged them).
		{"ConcatChannels/shared", func(b *Bound) *G.Node { return ConcatChannels(SiLU(b.Node(x)), b.Node(x)) },
			func(b *Bound) *G.Node {
				return must(G.Concat(1, must(G.HadamardProd(b.Node(x), must(G.Sigmoid(b.Node(x))))), b.Node(x)))
			}, []string{"x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(build func(b *Bound) *G.Node) ([]float32, map[string][]float32) {
				return forwardBackward(t, func(b *Bound) (y, loss *G.Node) {
					y = build(b)
					return y, weightedSum(y, rand.New(rand.NewPCG(1, 1)))
				})
			}
			y1, g1 := run(c.ours)
			y2, g2 := run(c.theirs)
			assertNear(t, "y", y1, y2)
			for _, n := range c.grads {
				assertNear(t, "d"+n, g1[n], g2[n])
			}
		})
	}
}

// TestGroupNorm checks the op's values against the definition (per image
// and group, mean 0 and variance 1 before the affine part) and its gradients
// against finite differences, with weights and biases away from 1 and 0.
func TestGroupNorm(t *testing.T) {
	for _, groups := range []int{1, 2, 4} {
		rng := rand.New(rand.NewPCG(uint64(groups), 7))
		ps := NewParamSet()
		gn := NewGroupNorm(ps, "norm", groups, 4)
		normalInit(gn.Weight, 1, rng)
		normalInit(gn.Bias, 1, rng)
		x := randomParam(ps, "x", rng, 3, 4, 3, 2)
		for i := range x.Data {
			x.Data[i] = 2*x.Data[i] + float32(i%5) // uneven means and scales
		}
		var b *Bound
		var y, loss *G.Node
		if err := Build("groupnorm test", func() {
			b = Bind(G.NewGraph())
			y = gn.Forward(b, b.Node(x))
			loss = weightedSum(SiLU(y), rand.New(rand.NewPCG(2, 2)))
		}); err != nil {
			t.Fatal(err)
		}
		prog, lossFn := compileChecked(t, b, loss, y)
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
		checkGradients(t, prog, lossFn, 40)
	}
}

// TestSiLUWithoutBackward checks the sampling path, which keeps no
// sigmoid(x) and works through a small scratch buffer: over a tensor longer
// than that buffer and not a multiple of it, its values equal the training
// path's bit for bit and x * sigmoid(x) to float32 precision.
func TestSiLUWithoutBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ps := NewParamSet()
	x := randomParam(ps, "x", rng, 3, 7, 11, 13)
	forward := func() []float32 {
		g := G.NewGraph()
		b := Bind(g)
		y := SiLU(b.Node(x))
		prog, err := Compile(b, nil, Outputs{y})
		if err != nil {
			t.Fatal(err)
		}
		defer prog.Close()
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), prog.Value(y)...)
	}
	got := forward()
	trained, _ := forwardBackward(t, func(b *Bound) (y, loss *G.Node) {
		y = SiLU(b.Node(x))
		return y, weightedSum(y, rand.New(rand.NewPCG(1, 1)))
	})
	for i, v := range x.Data {
		want := float64(v) / (1 + math.Exp(-float64(v)))
		if math.Abs(float64(got[i])-want) > 1e-6*math.Max(1, math.Abs(want)) || got[i] != trained[i] {
			t.Fatalf("silu(%v) = %v without backward, %v with, want %v", v, got[i], trained[i], want)
		}
	}
}
