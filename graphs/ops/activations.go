package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/internal/vec32"
)

// The activations, each fused into one pass over its input: LeakyReLU (and
// ReLU) and SiLU.

// activation is what the activations' ops share: the shape of their input,
// which is also their output's and every input's, and whether the op is the
// backward one, whose first input is the forward op's input and is not
// differentiated.
type activation struct {
	pureOp
	shape tensor.Shape
	grad  bool
	// backInputs is the backward op's input count: x, dy and any more.
	backInputs int
}

func (op activation) Arity() int {
	if op.grad {
		return op.backInputs
	}
	return 1
}
func (op activation) Type() hm.Type                                  { return uniformType(len(op.shape), op.Arity()) }
func (op activation) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

func (op activation) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = !op.grad
	return d
}

// leakyOp is max(x, 0) + slope*min(x, 0) (ReLU when slope is 0) in one pass.
// Gorgonia builds LeakyRelu and Rectify from comparison ops that materialize
// masks and then multiply, several passes and allocations per activation;
// they were a tenth of a GAN step. grad selects the backward op
// (x, dy) -> dy * (x > 0 ? 1 : slope).
type leakyOp struct {
	activation
	slope float32
}

// LeakyReLU applies the activation with the given negative slope.
func LeakyReLU(x *G.Node, slope float64) *G.Node {
	return must(G.ApplyOp(leakyOp{activation: activation{shape: x.Shape().Clone(), backInputs: 2}, slope: float32(slope)}, x))
}

// ReLU is LeakyReLU with slope 0.
func ReLU(x *G.Node) *G.Node { return LeakyReLU(x, 0) }

func (op leakyOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := float32Data(vals[0])
	if err != nil {
		return nil, fmt.Errorf("leaky relu: %w", err)
	}
	out, y := overwrittenOutputOf(op) // every element is written
	y = y[:len(x)]
	// The factor is 1 where x > 0 and the slope elsewhere (PyTorch's
	// gradient at 0), chosen without a branch (vec32.LeakyReLU).
	if op.grad {
		dy, err := float32Data(vals[1])
		if err != nil {
			return nil, fmt.Errorf("leaky relu gradient: %w", err)
		}
		vec32.LeakyReLUGrad(x, dy, y, op.slope)
		return out, nil
	}
	vec32.LeakyReLU(x, y, op.slope)
	return out, nil
}

func (op leakyOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "LeakyReLU(%v,%v,%v)", op.slope, op.shape, op.grad)
}
func (op leakyOp) Hashcode() uint32 { return hashOf(op) }
func (op leakyOp) String() string   { return fmt.Sprintf("LeakyReLU(%v)", op.slope) }
func (op leakyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := op
	back.grad = true
	return applyOne(back, inputs[0], grad)
}

// siluOp is SiLU (swish), x * sigmoid(x), in one pass. Built from Gorgonia's
// primitives it is a sigmoid, a product and, backward, five more
// elementwise ops, each allocating. When the graph differentiates it, the
// forward pass keeps sigmoid(x), so the backward op
// (x, dy, y) -> dy * s * (1 + x * (1 - s)) needs no exponentials; y is its
// input only to order it after the forward pass. A graph without a backward
// pass (sampling) keeps nothing: one write stream less per element.
type siluOp struct {
	activation
	saved *siluSaved // shared by the forward op and its backward op
}

type siluSaved struct {
	sigmoid  []float32 // of the last forward pass
	backward bool      // whether a backward op exists (SymDiff was called)
}

// SiLU applies x * sigmoid(x) elementwise.
func SiLU(x *G.Node) *G.Node {
	return must(G.ApplyOp(siluOp{activation: activation{shape: x.Shape().Clone(), backInputs: 3}, saved: &siluSaved{}}, x))
}

// siluScratch is the per-call buffer for sigmoid(x) when nothing keeps it:
// small enough for the stack and for L1.
const siluScratch = 1024

func (op siluOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := float32Inputs("silu", vals)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out, y := overwrittenOutputOf(op) // every element is written
	y = y[:len(x)]
	s := op.saved.sigmoid
	if op.grad {
		if len(s) != len(x) {
			return nil, fmt.Errorf("silu: backward pass before the forward pass")
		}
		dy := in[1][:len(x)]
		parallelFor(len(x), elementwiseMin, func(lo, hi int) {
			vec32.SiLUGrad(x[lo:hi], s[lo:hi], dy[lo:hi], y[lo:hi])
		})
		return out, nil
	}
	if !op.saved.backward {
		parallelFor(len(x), elementwiseMin, func(lo, hi int) {
			var scratch [siluScratch]float32
			for ; lo < hi; lo += siluScratch {
				end := min(hi, lo+siluScratch)
				vec32.SiLU(x[lo:end], scratch[:end-lo], y[lo:end])
			}
		})
		return out, nil
	}
	if len(s) != len(x) {
		s = make([]float32, len(x))
		op.saved.sigmoid = s
	}
	parallelFor(len(x), elementwiseMin, func(lo, hi int) {
		vec32.SiLU(x[lo:hi], s[lo:hi], y[lo:hi])
	})
	return out, nil
}

func (op siluOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "SiLU(%v,%v,%p)", op.shape, op.grad, op.saved)
}
func (op siluOp) Hashcode() uint32 { return hashOf(op) }
func (op siluOp) String() string   { return "SiLU" }
func (op siluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.saved.backward = true
	back := op
	back.grad = true
	return applyOne(back, inputs[0], grad, output)
}
