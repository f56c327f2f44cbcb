package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normOp is what the normalization layers' ops (GroupNorm's and
// BatchNorm's) share: a forward pass, and a backward pass as three ops that
// share one pass over the data. The dx op (from x, gamma, dy and y) computes
// dgamma and dbeta into its layer's saved state, and the dgamma and dbeta
// ops, whose only input is dx, copy them out. y is an input of dx, and dx of
// the other two, only to order each after the pass it reads.
type normOp interface {
	G.Op
	forward(x, gamma, beta, y []float32)
	backward(x, gamma, dy, dx []float32)
	// haveStats reports whether a forward pass left the statistics that
	// the backward pass reads.
	haveStats() bool
	savedGrads() (dgamma, dbeta []float32)
	// withGrad is the op computing grad: 0 forward, 1 dx, 2 dgamma, 3 dbeta.
	withGrad(grad int) normOp
}

// doNorm is a normalization op's Do for the output grad selects.
func doNorm(op normOp, name string, grad int, vals []G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, name, vals, true) // every case writes every element
	if err != nil {
		return nil, err
	}
	switch grad {
	case 0:
		op.forward(in[0], in[1], in[2], dst)
	case 1:
		if !op.haveStats() {
			return nil, fmt.Errorf("%s: backward pass before the forward pass", name)
		}
		op.backward(in[0], in[1], in[2], dst)
	case 2:
		dgamma, _ := op.savedGrads()
		copy(dst, dgamma)
	case 3:
		_, dbeta := op.savedGrads()
		copy(dst, dbeta)
	}
	return out, nil
}

// symDiffNorm builds a forward op's three backward ops.
func symDiffNorm(op normOp, inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(op.withGrad(1), inputs[0], inputs[1], grad, output)
	if err != nil {
		return nil, err
	}
	out := G.Nodes{dx}
	for which := 2; which <= 3; which++ {
		n, err := G.ApplyOp(op.withGrad(which), dx)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// normBase is what the normalization ops hold in common, and their Arity,
// Type and InferShape: x's shape, which pass the op computes, and the state
// one forward node shares with its backward nodes.
type normBase struct {
	pureOp
	shape tensor.Shape
	grad  int // 0 forward, 1 dx, 2 dgamma, 3 dbeta
	// saved is shared by one forward node and its backward nodes: the
	// forward's statistics, and dgamma and dbeta from the dx pass.
	saved *normSaved
}

// normSaved is that state: the mean and 1/sqrt(var+eps) of each set of
// values normalized together, and the dgamma and dbeta the dx op computes.
type normSaved struct {
	mean, invStd  []float64
	dgamma, dbeta []float32
}

// Arity is the input count for grad: (x, gamma, beta), (x, gamma, dy, y),
// or dx alone.
func (op normBase) Arity() int {
	switch op.grad {
	case 0:
		return 3
	case 1:
		return 4
	}
	return 1
}

// Type is the op's type for grad, gamma and beta being matrices.
func (op normBase) Type() hm.Type {
	x := len(op.shape)
	switch op.grad {
	case 0:
		return fnType(x, 2, 2, x) // (x, gamma, beta) -> y
	case 1:
		return fnType(x, 2, x, x, x) // (x, gamma, dy, y) -> dx
	}
	return fnType(x, 2) // dx -> dgamma or dbeta
}

// InferShape is x's shape, or (1, C) for dgamma and dbeta.
func (op normBase) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad == 2 || op.grad == 3 {
		return tensor.Shape{1, op.shape[1]}, nil
	}
	return op.shape.Clone(), nil
}

func (op normBase) savedGrads() (dgamma, dbeta []float32) {
	return op.saved.dgamma, op.saved.dbeta
}
