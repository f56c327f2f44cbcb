package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
)

// reshapeCopyOp is a reshape that copies. Gorgonia's own Reshape returns a
// view of its input, and the tape machine may then run a later elementwise
// op in place on that view, silently overwriting the input (upstream issue
// #511): weights drift and saved activations change before the backward
// pass uses them. Copying costs one memmove and removes the hazard.
type reshapeCopyOp struct {
	pureOp
	from, to tensor.Shape
}

// Reshape returns x with a new shape of the same size, as a copy.
func Reshape(x *G.Node, shape ...int) *G.Node {
	to := tensor.Shape(shape)
	if to.TotalSize() != x.Shape().TotalSize() {
		graphs.Fail(fmt.Errorf("reshape %v to %v: sizes differ", x.Shape(), to))
	}
	return must(G.ApplyOp(reshapeCopyOp{from: x.Shape().Clone(), to: to.Clone()}, x))
}

func (op reshapeCopyOp) Arity() int { return 1 }

func (op reshapeCopyOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: op.from.Dims(), Of: a}, G.TensorType{Dims: op.to.Dims(), Of: a})
}

func (op reshapeCopyOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.to.Clone(), nil }

func (op reshapeCopyOp) Do(vals ...G.Value) (G.Value, error) {
	in, ok := vals[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("reshape: want a dense tensor, got %T", vals[0])
	}
	src, ok := in.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("reshape: want float32 data, got %v", in.Dtype())
	}
	if !in.IsMaterializable() && in.DataOrder().IsRowMajor() && len(src) == op.to.TotalSize() {
		out := newOutput(op.to)
		copy(out.Data().([]float32), src)
		return out, nil
	}
	// A view with strides of its own (a transpose not yet applied) is
	// materialized first, so the copy follows the logical order.
	m := in.Materialize().(*tensor.Dense)
	out := newOutput(op.to)
	copy(out.Data().([]float32), m.Data().([]float32))
	return out, nil
}

func (op reshapeCopyOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ReshapeCopy%v->%v", op.from, op.to)
}
func (op reshapeCopyOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op reshapeCopyOp) String() string { return fmt.Sprintf("ReshapeCopy%v", op.to) }

// DiffWRT implements G.SDOp.
func (op reshapeCopyOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff implements G.SDOp: the gradient is reshaped back, also by copy.
func (op reshapeCopyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back, err := G.ApplyOp(reshapeCopyOp{from: op.to.Clone(), to: op.from.Clone()}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{back}, nil
}
