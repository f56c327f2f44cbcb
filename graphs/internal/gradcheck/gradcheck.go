package gradcheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

// Check compares the analytic gradient of every parameter (from
// prog.Grads after one run) with central finite differences of loss, at up to
// perParam coordinates of each parameter. The tolerances suit float32.
func Check(t testing.TB, prog *graphs.Program, loss func() float64, perParam int) {
	t.Helper()
	CheckWith(t, prog, loss, perParam, 0.05)
}

// CheckWith is Check skipping the coordinates whose one-sided slopes differ
// by more than kink (relative): a ReLU that switches inside [x-h, x+h]
// moves the central difference by half the slopes' difference, so a
// network of many ReLUs, where one of them often switches for a small
// share of the slope, needs kink at or below the tolerance (0.02) where
// Check's 0.05 lets such coordinates through to fail.
func CheckWith(t testing.TB, prog *graphs.Program, loss func() float64, perParam int, kink float64) {
	t.Helper()
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float32, len(prog.Grads()))
	for i, g := range prog.Grads() {
		analytic[i] = append([]float32(nil), g...)
	}
	const h = 3e-3
	base := loss()
	checked, kinks := 0, 0
	for i, p := range prog.Params() {
		stride := max(1, len(p.Data)/perParam)
		for j := 0; j < len(p.Data); j += stride {
			orig := p.Data[j]
			p.Data[j] = orig + h
			up := loss()
			gradUp := float64(prog.Grads()[i][j])
			p.Data[j] = orig - h
			down := loss()
			gradDown := float64(prog.Grads()[i][j])
			p.Data[j] = orig
			got := float64(analytic[i][j])
			// A ReLU switching inside [x-h, x+h] makes the one-sided slopes
			// disagree; the function is not differentiable there, so skip.
			// A switch that moves the slope by a small share shows better in
			// the analytic gradient itself: at x-h, x and x+h it lies on a
			// line (up to h^2 terms) unless a kink lies between, and a kink
			// whose jump J is inside moves the central difference by up to
			// J/2, the analytic midpoint by J/2 too: skip those that could
			// move the difference by half the tolerance below.
			right, left := (up-base)/h, (base-down)/h
			if math.Abs(right-left) > kink*math.Max(1, math.Abs(right)+math.Abs(left)) ||
				math.Abs((gradUp+gradDown)/2-got) > 1e-2*math.Max(1, math.Abs(got)) {
				kinks++
				continue
			}
			numeric := (up - down) / (2 * h)
			if diff := math.Abs(got - numeric); diff > 2e-2*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s[%d]: analytic %.5g, finite difference %.5g", p.Name, j, got, numeric)
			}
			checked++
		}
	}
	if checked == 0 || kinks > checked/5 {
		t.Fatalf("%d coordinates checked, %d skipped at kinks: too few to trust", checked, kinks)
	}
}

// Build binds a new graph and builds it with build inside graphs.Build.
func Build(t *testing.T, build func(b *graphs.Bound)) *graphs.Bound {
	t.Helper()
	var b *graphs.Bound
	if err := graphs.Build("test graph", func() {
		b = graphs.Bind(G.NewGraph())
		build(b)
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// Run compiles b's graph with loss (nil: no backward pass) and the outputs
// and runs it once.
func Run(t *testing.T, b *graphs.Bound, loss *G.Node, outputs ...*G.Node) *graphs.Program {
	t.Helper()
	prog, err := graphs.Compile(b, loss, outputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	return prog
}

// ForwardBackward builds a graph with build, which returns an output and a
// loss, runs it once and returns the output's values and the gradient of
// every parameter the graph uses, by name.
func ForwardBackward(t *testing.T, build func(b *graphs.Bound) (y, loss *G.Node)) ([]float32, map[string][]float32) {
	t.Helper()
	var y, loss *G.Node
	b := Build(t, func(b *graphs.Bound) { y, loss = build(b) })
	prog := Run(t, b, loss, y)
	grads := map[string][]float32{}
	for i, p := range prog.Params() {
		grads[p.Name] = append([]float32(nil), prog.Grads()[i]...)
	}
	return append([]float32(nil), prog.Value(y)...), grads
}

// AssertNear fails unless a project op's values a agree with Gorgonia's b
// within 1e-4, relative above 1.
func AssertNear(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%s: %d vs %d values", what, len(a), len(b))
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-4*math.Max(1, math.Abs(float64(b[i]))) {
			t.Fatalf("%s[%d]: ours %v, Gorgonia %v", what, i, a[i], b[i])
		}
	}
}

// Compile compiles b's graph with loss and the outputs, runs it once,
// and returns the program with a loss function for Check.
func Compile(t *testing.T, b *graphs.Bound, loss *G.Node, outputs ...*G.Node) (*graphs.Program, func() float64) {
	t.Helper()
	prog := Run(t, b, loss, append([]*G.Node{loss}, outputs...)...)
	return prog, LossFunc(t, prog, loss)
}

// LossFunc is the loss function for Check of prog, which reports loss: it
// runs prog and returns loss's value.
func LossFunc(t *testing.T, prog *graphs.Program, loss *G.Node) func() float64 {
	return func() float64 {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		return prog.Scalar(loss)
	}
}

// CheckTrainable is Check of b's graph compiled by Compile, which must
// differentiate as many parameters as trainable holds.
func CheckTrainable(t *testing.T, b *graphs.Bound, loss *G.Node, trainable []*graphs.Param, perParam int) {
	t.Helper()
	prog, lossFn := Compile(t, b, loss)
	if len(prog.Params()) != len(trainable) {
		t.Fatalf("differentiating %d parameters, want the %d trainable ones", len(prog.Params()), len(trainable))
	}
	Check(t, prog, lossFn, perParam)
}

// JacobianLogDet is log|det J| of f at x, with the Jacobian J taken by
// central differences of step h (computed in F, divided in float64).
func JacobianLogDet[F float32 | float64](f func(x []F) []F, x []F, h float64) float64 {
	d := len(x)
	jac := mat.NewDense(d, d, nil)
	for j := range d {
		up, down := append([]F(nil), x...), append([]F(nil), x...)
		up[j] += F(h)
		down[j] -= F(h)
		zu, zd := f(up), f(down)
		for i := range d {
			jac.Set(i, j, float64(zu[i]-zd[i])/(2*h))
		}
	}
	var lu mat.LU
	lu.Factorize(jac)
	logDet, _ := lu.LogDet()
	return logDet
}

// WeightedSum builds loss = sum(y * w) for fixed random w, so that every
// output element gets a different gradient.
func WeightedSum(y *G.Node, rng *rand.Rand) *G.Node {
	w, data := graphs.Input(y.Graph(), "loss_weights", y.Shape()...)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return graphs.Must(G.Sum(graphs.Must(G.HadamardProd(y, w))))
}

// FillNormal fills v from N(0, 1).
func FillNormal(rng *rand.Rand, v []float32) {
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
}

// RandomParam adds a parameter of the given shape filled from N(0, 1).
func RandomParam(ps *graphs.ParamSet, name string, rng *rand.Rand, shape ...int) *graphs.Param {
	return NormalParam(ps, name, 1, rng, shape...)
}

// NormalParam adds a parameter of the given shape filled from N(0, std).
func NormalParam(ps *graphs.ParamSet, name string, std float64, rng *rand.Rand, shape ...int) *graphs.Param {
	p := ps.Add(name, shape...)
	for i := range p.Data {
		p.Data[i] = float32(std * rng.NormFloat64())
	}
	return p
}

// UniformParam adds a parameter of the given shape filled from
// U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's default initialization of
// Linear and Conv layers.
func UniformParam(ps *graphs.ParamSet, name string, fanIn int, rng *rand.Rand, shape ...int) *graphs.Param {
	p := ps.Add(name, shape...)
	bound := 1 / math.Sqrt(float64(fanIn))
	for i := range p.Data {
		p.Data[i] = float32((rng.Float64()*2 - 1) * bound)
	}
	return p
}
