package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
)

// linearOp is y = x W^T + b in one op. Built from Gorgonia's own ops, the
// same layer costs a generic-iterator transpose of W on every run, a
// separate broadcast add, and a transpose in the backward pass; here the
// transposes are folded into the matrix multiply's flags (sgemm with
// op(B) = W^T) and the bias is added in the same pass over y.
//
// Inputs: x (B, in), W (out, in), b (1, out). Output: (B, out).
type linearOp struct {
	pureOp
	batch, in, out int
	// noInputGrad skips dL/dx when x is a graph input (data, noise): the
	// first layer's input gradient is a full-size matrix multiply that
	// nothing would read.
	noInputGrad bool
}

// linearGradOp computes one of the three gradients of linearOp from dy.
type linearGradOp struct {
	pureOp
	which          int // gradX: dy W; gradW: dy^T x; gradB: column sums of dy
	batch, in, out int
}

const (
	gradX = iota
	gradW
	gradB
)

// Linear is PyTorch's F.linear, x W^T + b for x (B, in), W (out, in) and
// b (1, out), as one op (linearOp); shapes are checked here, once, at build
// time. noInputGrad declares that nothing needs the gradient with respect to
// x (a graph input), whose computation is then skipped.
func Linear(x, w, b *G.Node, noInputGrad bool) *G.Node {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		failf("linear: x %v and W %v do not fit", xs, ws)
	}
	return must(G.ApplyOp(linearOp{batch: xs[0], in: ws[1], out: ws[0], noInputGrad: noInputGrad}, x, w, b))
}

func (op linearOp) Arity() int    { return 3 }
func (op linearOp) Type() hm.Type { return uniformType(2, 3) }
func (op linearOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.batch, op.out}, nil
}
func (op linearOp) Do(vals ...G.Value) (G.Value, error) {
	x, w, b, err := float32Args3(vals)
	if err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	out := newOutput(tensor.Shape{op.batch, op.out})
	y := out.Data().([]float32)
	// Start from the bias in every row, then accumulate x W^T (beta = 1).
	for r := 0; r < op.batch; r++ {
		copy(y[r*op.out:(r+1)*op.out], b)
	}
	graphs.Sgemm(blas.NoTrans, blas.Trans, op.batch, op.out, op.in, 1, x, op.in, w, op.in, 1, y, op.out)
	macs.Add(int64(op.batch) * int64(op.in) * int64(op.out))
	return out, nil
}
func (op linearOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Linear(%d,%d,%d)", op.batch, op.in, op.out)
}
func (op linearOp) Hashcode() uint32   { return hashOf(op) }
func (op linearOp) String() string     { return fmt.Sprintf("Linear(%d->%d)", op.in, op.out) }
func (op linearOp) DiffWRT(int) []bool { return []bool{!op.noInputGrad, true, true} }
func (op linearOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	mk := func(which int, args ...*G.Node) (*G.Node, error) {
		return G.ApplyOp(linearGradOp{which: which, batch: op.batch, in: op.in, out: op.out}, args...)
	}
	var dx *G.Node
	var err error
	if !op.noInputGrad {
		if dx, err = mk(gradX, grad, w); err != nil {
			return nil, err
		}
	}
	dw, err := mk(gradW, grad, x)
	if err != nil {
		return nil, err
	}
	db, err := mk(gradB, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op linearGradOp) Arity() int {
	if op.which == gradB {
		return 1
	}
	return 2
}
func (op linearGradOp) Type() hm.Type { return uniformType(2, op.Arity()) }
func (op linearGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	switch op.which {
	case gradX:
		return tensor.Shape{op.batch, op.in}, nil
	case gradW:
		return tensor.Shape{op.out, op.in}, nil
	}
	return tensor.Shape{1, op.out}, nil
}
func (op linearGradOp) Do(vals ...G.Value) (G.Value, error) {
	out, dst := outputOf(op)
	dy, err := float32Data(vals[0])
	if err != nil {
		return nil, fmt.Errorf("linear gradient: %w", err)
	}
	if op.which != gradB {
		macs.Add(int64(op.batch) * int64(op.in) * int64(op.out))
	}
	switch op.which {
	case gradX: // dx = dy W: (B,out) x (out,in)
		w, err := float32Data(vals[1])
		if err != nil {
			return nil, err
		}
		graphs.Sgemm(blas.NoTrans, blas.NoTrans, op.batch, op.in, op.out, 1, dy, op.out, w, op.in, 0, dst, op.in)
	case gradW: // dW = dy^T x: (out,B) x (B,in)
		x, err := float32Data(vals[1])
		if err != nil {
			return nil, err
		}
		graphs.Sgemm(blas.Trans, blas.NoTrans, op.out, op.in, op.batch, 1, dy, op.out, x, op.in, 0, dst, op.in)
	case gradB:
		for r := 0; r < op.batch; r++ {
			row := dy[r*op.out : (r+1)*op.out]
			for j, v := range row {
				dst[j] += v
			}
		}
	}
	return out, nil
}
func (op linearGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "LinearGrad%d(%d,%d,%d)", op.which, op.batch, op.in, op.out)
}
func (op linearGradOp) Hashcode() uint32 { return hashOf(op) }
func (op linearGradOp) String() string   { return fmt.Sprintf("LinearGrad%d", op.which) }
