package graphs

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// siluOp is SiLU (swish), x * sigmoid(x), in one pass. Built from Gorgonia's
// primitives it is a sigmoid, a product and, backward, five more
// elementwise ops, each allocating. grad selects the backward op
// (x, dy) -> dy * s * (1 + x * (1 - s)) with s = sigmoid(x).
type siluOp struct {
	shape tensor.Shape
	grad  bool
}

// SiLU applies x * sigmoid(x) elementwise.
func SiLU(x *G.Node) *G.Node {
	return must(G.ApplyOp(siluOp{shape: x.Shape().Clone()}, x))
}

func (op siluOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op siluOp) Type() hm.Type {
	t := G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')}
	if op.grad {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}
func (op siluOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op siluOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := float32Data(vals[0])
	if err != nil {
		return nil, fmt.Errorf("silu: %w", err)
	}
	out := newOutput(op.shape)
	y := out.Data().([]float32)[:len(x)]
	if op.grad {
		dy, err := float32Data(vals[1])
		if err != nil {
			return nil, fmt.Errorf("silu gradient: %w", err)
		}
		dy = dy[:len(x)]
		parallelFor(len(x), elementwiseMin, func(lo, hi int) {
			for i, v := range x[lo:hi] {
				s := sigmoid32(v)
				y[lo+i] = dy[lo+i] * s * (1 + v*(1-s))
			}
		})
		return out, nil
	}
	parallelFor(len(x), elementwiseMin, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = v * sigmoid32(v)
		}
	})
	return out, nil
}

// sigmoid32 is 1/(1+e^-x) in float32 arithmetic (exp32's clamping keeps it
// finite: it is 1 for x >= 87 and about 1.6e-38 for x <= -88).
func sigmoid32(x float32) float32 {
	return 1 / (1 + exp32(-x))
}

func (op siluOp) ReturnsPtr() bool     { return false }
func (op siluOp) CallsExtern() bool    { return false }
func (op siluOp) OverwritesInput() int { return -1 }
func (op siluOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "SiLU(%v,%v)", op.shape, op.grad)
}
func (op siluOp) Hashcode() uint32 { return hashOf(op) }
func (op siluOp) String() string   { return "SiLU" }
func (op siluOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = !op.grad
	return d
}
func (op siluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	n, err := G.ApplyOp(siluOp{shape: op.shape, grad: true}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{n}, nil
}
