package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/vec32"
)

// siluOp is SiLU (swish), x * sigmoid(x), in one pass. Built from Gorgonia's
// primitives it is a sigmoid, a product and, backward, five more
// elementwise ops, each allocating. When the graph differentiates it, the
// forward pass keeps sigmoid(x), so the backward op
// (x, dy, y) -> dy * s * (1 + x * (1 - s)) needs no exponentials; y is its
// input only to order it after the forward pass. A graph without a backward
// pass (sampling) keeps nothing: one write stream less per element.
type siluOp struct {
	pureOp
	shape tensor.Shape
	grad  bool
	saved *siluSaved // shared by the forward op and its backward op
}

type siluSaved struct {
	sigmoid  []float32 // of the last forward pass
	backward bool      // whether a backward op exists (SymDiff was called)
}

// SiLU applies x * sigmoid(x) elementwise.
func SiLU(x *G.Node) *G.Node {
	return must(G.ApplyOp(siluOp{shape: x.Shape().Clone(), saved: &siluSaved{}}, x))
}

// siluScratch is the per-call buffer for sigmoid(x) when nothing keeps it:
// small enough for the stack and for L1.
const siluScratch = 1024

func (op siluOp) Arity() int {
	if op.grad {
		return 3
	}
	return 1
}
func (op siluOp) Type() hm.Type {
	t := G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')}
	if op.grad {
		return hm.NewFnType(t, t, t, t)
	}
	return hm.NewFnType(t, t)
}
func (op siluOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op siluOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := float32Inputs("silu", vals)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out := graphs.NewOutput(op.shape, false) // every element is written
	y := out.Data().([]float32)[:len(x)]
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
func (op siluOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = !op.grad
	return d
}
func (op siluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.saved.backward = true
	back := op
	back.grad = true
	n, err := G.ApplyOp(back, inputs[0], grad, output)
	if err != nil {
		return nil, err
	}
	return G.Nodes{n}, nil
}
