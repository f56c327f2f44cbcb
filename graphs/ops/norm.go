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
	in, err := float32Inputs(name, vals)
	if err != nil {
		return nil, err
	}
	out, dst := overwrittenOutputOf(op) // every case writes every element
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

// normArity is a normalization op's input count for grad: (x, gamma, beta),
// (x, gamma, dy, y), or dx alone.
func normArity(grad int) int {
	switch grad {
	case 0:
		return 3
	case 1:
		return 4
	}
	return 1
}

// normType is a normalization op's type for grad, x having dims axes.
func normType(dims, grad int) hm.Type {
	a := hm.TypeVariable('a')
	x := G.TensorType{Dims: dims, Of: a}
	m := G.TensorType{Dims: 2, Of: a}
	switch grad {
	case 0:
		return hm.NewFnType(x, m, m, x) // (x, gamma, beta) -> y
	case 1:
		return hm.NewFnType(x, m, x, x, x) // (x, gamma, dy, y) -> dx
	}
	return hm.NewFnType(x, m) // dx -> dgamma or dbeta
}

// normShape is a normalization op's output shape for grad: x's, or (1, C)
// for dgamma and dbeta.
func normShape(x tensor.Shape, grad int) tensor.Shape {
	if grad == 2 || grad == 3 {
		return tensor.Shape{1, x[1]}
	}
	return x.Clone()
}
