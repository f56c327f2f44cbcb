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
// arena, and the float32 storage of their inputs.

// newOutput is a zeroed output from the arena (graphs.NewOutput).
func newOutput(shape tensor.Shape) *tensor.Dense { return graphs.NewOutput(shape, true) }

// outputOf is newOutput of the op's inferred shape, with its storage.
func outputOf(op interface {
	InferShape(...G.DimSizer) (tensor.Shape, error)
}) (*tensor.Dense, []float32) {
	shape, _ := op.InferShape()
	out := newOutput(shape)
	return out, out.Data().([]float32)
}

// overwrittenOutputOf is outputOf for an op that writes every element of its
// output: a reused buffer is not cleared first (clearing the outputs of a
// UNet's convolutions cost a few percent of a step).
func overwrittenOutputOf(op interface {
	InferShape(...G.DimSizer) (tensor.Shape, error)
}) (*tensor.Dense, []float32) {
	shape, _ := op.InferShape()
	out := graphs.NewOutput(shape, false)
	return out, out.Data().([]float32)
}

// matrixType is the Gorgonia type of a matrix, for the ops' Type methods.
func matrixType() hm.Type { return G.TensorType{Dims: 2, Of: hm.TypeVariable('a')} }

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
