package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
)

// What the project's ops share: the parts of Gorgonia's Op interface that
// are the same for all of them, their outputs from the running Program's
// arena, the float32 storage of their inputs and the shorthands of their
// builders.

// must is graphs.Must, short for the arithmetic of graph builders.
func must(n *G.Node, err error) *G.Node { return graphs.Must(n, err) }

// failf aborts the graph builder (graphs.Fail) with a formatted error: the
// ops' shape checks.
func failf(format string, args ...any) { graphs.Fail(fmt.Errorf(format, args...)) }

// shaped is an op that knows its output's shape.
type shaped interface {
	InferShape(...G.DimSizer) (tensor.Shape, error)
}

// newOutput is a zeroed output from the arena (graphs.NewOutput).
func newOutput(shape tensor.Shape) *tensor.Dense { return graphs.NewOutput(shape, true) }

// outputOf is newOutput of the op's inferred shape, with its storage.
func outputOf(op shaped) (*tensor.Dense, []float32) {
	shape, _ := op.InferShape()
	out := newOutput(shape)
	return out, out.Data().([]float32)
}

// overwrittenOutputOf is outputOf for an op that writes every element of its
// output: a reused buffer is not cleared first (clearing the outputs of a
// UNet's convolutions cost a few percent of a step).
func overwrittenOutputOf(op shaped) (*tensor.Dense, []float32) {
	shape, _ := op.InferShape()
	out := graphs.NewOutput(shape, false)
	return out, out.Data().([]float32)
}

// inputsAndOutput starts most ops' Do: the float32 storage of the inputs
// (what names the op in errors), then the output, left as it was in the
// arena when the op writes every element (overwritten) and zeroed otherwise.
func inputsAndOutput(op shaped, what string, vals []G.Value, overwritten bool) ([][]float32, *tensor.Dense, []float32, error) {
	in, err := float32Inputs(what, vals)
	if err != nil {
		return nil, nil, nil, err
	}
	if overwritten {
		out, dst := overwrittenOutputOf(op)
		return in, out, dst, nil
	}
	out, dst := outputOf(op)
	return in, out, dst, nil
}

// fnType is the Gorgonia type of an op from tensors of the given numbers of
// dimensions, the output's last, all of one element type.
func fnType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = G.TensorType{Dims: d, Of: hm.TypeVariable('a')}
	}
	return hm.NewFnType(ts...)
}

// uniformType is the type of an op with arity inputs whose inputs and
// output all have dims dimensions.
func uniformType(dims, arity int) hm.Type {
	ds := make([]int, arity+1)
	for i := range ds {
		ds[i] = dims
	}
	return fnType(ds...)
}

// diffAll is the DiffWRT of an op with n inputs that differentiates all of
// them (d) or none.
func diffAll(n int, d bool) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// applyOne is the SymDiff result of an op whose one gradient is op applied
// to args.
func applyOne(op G.Op, args ...*G.Node) (G.Nodes, error) {
	n, err := G.ApplyOp(op, args...)
	if err != nil {
		return nil, err
	}
	return G.Nodes{n}, nil
}

// gemmFunc is the signature of graphs.Sgemm and graphs.SgemmSerial, for ops
// that pick one.
type gemmFunc = func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// hashOf is an op's Hashcode: the FNV-1a hash of what its WriteHash writes.
func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// pureOp supplies the parts of Gorgonia's Op interface that are the same
// for every project op: each returns a fresh value (not a pointer into an
// input), calls nothing external and overwrites no input.
type pureOp struct{}

func (pureOp) ReturnsPtr() bool     { return false }
func (pureOp) CallsExtern() bool    { return false }
func (pureOp) OverwritesInput() int { return -1 }

// ArenaOutput marks the op as a graphs.ArenaOp: its Do takes its output
// from the arena exactly once (outputOf, inputsAndOutput, newOutput) and
// reads no other op's output but its inputs, so a Program may share the
// output's storage with outputs that are dead by the time it is made.
func (pureOp) ArenaOutput() {}

// float32Inputs is float32Data of each of an op's inputs; what names the op
// in errors.
func float32Inputs(what string, vals []G.Value) ([][]float32, error) {
	in := make([][]float32, len(vals))
	for i, v := range vals {
		d, err := float32Data(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		in[i] = d
	}
	return in, nil
}

// float32Data returns the contiguous float32 storage of a dense value,
// materializing a strided view first.
func float32Data(v G.Value) ([]float32, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("want a dense tensor, got %T", v)
	}
	if d.IsMaterializable() {
		d = d.Materialize().(*tensor.Dense)
	}
	data, ok := d.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("want float32 data, got %v", d.Dtype())
	}
	return data, nil
}

func float32Args3(vals []G.Value) (a, b, c []float32, err error) {
	if len(vals) != 3 {
		return nil, nil, nil, fmt.Errorf("want 3 inputs, got %d", len(vals))
	}
	if a, err = float32Data(vals[0]); err != nil {
		return
	}
	if b, err = float32Data(vals[1]); err != nil {
		return
	}
	c, err = float32Data(vals[2])
	return
}
