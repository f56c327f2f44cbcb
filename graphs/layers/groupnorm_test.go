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
		var b *graphs.Bound
		var y, loss *G.Node
		if err := graphs.Build("groupnorm test", func() {
			b = graphs.Bind(G.NewGraph())
			y = gn.Forward(b, b.Node(x))
			loss = gradcheck.WeightedSum(ops.SiLU(y), rand.New(rand.NewPCG(2, 2)))
		}); err != nil {
			t.Fatal(err)
		}
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
