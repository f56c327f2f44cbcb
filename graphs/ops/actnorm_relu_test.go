package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// actNormShapes are (B, C, H, W): rows shorter and longer than the vector
// kernels' 16 lanes, odd sides.
var actNormShapes = [][]int{{2, 3, 2, 3}, {3, 2, 5, 5}, {2, 4, 7, 7}}

// actNormParams adds x, bias and logs, random.
func actNormParams(shape []int, rng *rand.Rand) (x, bias, logs *graphs.Param) {
	ps := graphs.NewParamSet()
	return gradcheck.RandomParam(ps, "x", rng, shape...),
		gradcheck.NormalParam(ps, "bias", 0.5, rng, 1, shape[1]),
		gradcheck.NormalParam(ps, "logs", 0.5, rng, 1, shape[1])
}

// TestActNormReLUMatchesComposition compares the fused op with Glow's
// ActNorm op followed by ReLU: values and the gradients of x, bias and
// logs.
func TestActNormReLUMatchesComposition(t *testing.T) {
	for i, shape := range actNormShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			x, bias, logs := actNormParams(shape, rand.New(rand.NewPCG(41, uint64(i))))
			x.Data[0] = -bias.Data[0] // y exactly 0: both give the gradient 0 there
			run := func(fused bool) ([]float32, map[string][]float32) {
				return gradcheck.ForwardBackward(t, func(b *graphs.Bound) (y, loss *G.Node) {
					if fused {
						y = ActNormReLU(b.Node(x), b.Node(bias), b.Node(logs), nil)
					} else {
						y = ReLU(ActNorm(b.Node(x), b.Node(bias), b.Node(logs), nil))
					}
					return y, gradcheck.WeightedSum(y, rand.New(rand.NewPCG(1, 1)))
				})
			}
			y1, g1 := run(true)
			y2, g2 := run(false)
			gradcheck.AssertNear(t, "y", y1, y2)
			for _, n := range []string{"x", "bias", "logs"} {
				gradcheck.AssertNear(t, "d"+n, g1[n], g2[n])
			}
		})
	}
}

// TestActNormReLUGradients checks the fused op's gradients against finite
// differences.
func TestActNormReLUGradients(t *testing.T) {
	for i, shape := range actNormShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, uint64(i)))
			x, bias, logs := actNormParams(shape, rng)
			var loss *G.Node
			b := gradcheck.Build(t, func(b *graphs.Bound) {
				loss = gradcheck.WeightedSum(ActNormReLU(b.Node(x), b.Node(bias), b.Node(logs), nil), rng)
			})
			prog, lossFn := gradcheck.Compile(t, b, loss)
			gradcheck.CheckWith(t, prog, lossFn, 30, 0.01)
		})
	}
}

// fakeInit is an ActNormInit that sets bias and logs to fixed values the
// first time.
type fakeInit struct {
	bias, logs []float32
	calls      int
}

func (f *fakeInit) InitFrom(x []float32, b, c, hw int) {
	if f.calls == 0 {
		for i := range c {
			f.bias[i], f.logs[i] = float32(i), -float32(i)
		}
	}
	f.calls++
}

// TestActNormReLUInitializes checks that the initializer runs before each
// forward pass, and that the output and the gradients use the parameters
// it set on the first.
func TestActNormReLUInitializes(t *testing.T) {
	shape := []int{2, 3, 4, 4}
	x, bias, logs := actNormParams(shape, rand.New(rand.NewPCG(43, 43)))
	init := &fakeInit{bias: bias.Data, logs: logs.Data}
	var y, loss *G.Node
	b := gradcheck.Build(t, func(b *graphs.Bound) {
		y = ActNormReLU(b.Node(x), b.Node(bias), b.Node(logs), init)
		loss = must(G.Sum(y))
	})
	prog := gradcheck.Run(t, b, loss, y)
	if init.calls != 1 {
		t.Fatalf("initializer called %d times in one run", init.calls)
	}
	want, wantGrads := gradcheck.ForwardBackward(t, func(b *graphs.Bound) (*G.Node, *G.Node) {
		y := ReLU(ActNorm(b.Node(x), b.Node(bias), b.Node(logs), nil))
		return y, must(G.Sum(y))
	})
	gradcheck.AssertNear(t, "y", prog.Value(y), want)
	for i, p := range prog.Params() {
		gradcheck.AssertNear(t, "d"+p.Name, prog.Grads()[i], wantGrads[p.Name])
	}
}
