package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// invConvWeightOp builds the weight of Glow's invertible 1x1 convolution
// from its LU parametrization (Kingma & Dhariwal 2018, section 3.2):
//
//	W = P L U,  L = I + strict lower part of `lower`,
//	U = strict upper part of `upper` + diag(sign exp(logs)),
//
// so log|det W| = sum logs and W stays invertible while it trains. P and
// sign are fixed at initialization (buffers). grad selects the gradient
// with respect to lower (1), upper (2) or logs (3), from (lower, upper,
// logs, dW). The matrices are C x C with C at most a few dozen.
type invConvWeightOp struct {
	pureOp
	c    int
	perm []int     // P: row i of W is row perm[i] of L U
	sign []float32 // signs of U's diagonal
	grad int
}

// InvConvWeight is the weight (C, C, 1, 1) of Glow's invertible 1x1
// convolution from its LU parametrization: W = P L U with
// L = I + the strict lower part of lower and
// U = the strict upper part of upper + diag(sign exp(logs)), lower and upper
// (C, C), logs (1, C); row i of W is row perm[i] of L U. P and sign are not
// trained, so they are given as values.
func InvConvWeight(lower, upper, logs *G.Node, perm []int, sign []float32) *G.Node {
	return must(G.ApplyOp(invConvWeightOp{c: len(perm), perm: perm, sign: sign}, lower, upper, logs))
}

// InvConvMatrix is the W of InvConvWeight (C x C, row-major) computed in
// float64 from the parameters' values, for the inverse a sampler needs.
func InvConvMatrix(lower, upper, logs []float32, perm []int, sign []float32) []float64 {
	op := invConvWeightOp{c: len(perm), perm: perm, sign: sign}
	c := op.c
	l, u := op.factors(lower, upper, logs)
	w := make([]float64, c*c)
	for i := range c {
		for j := range c {
			var s float64
			for k := range c {
				s += l[perm[i]*c+k] * u[k*c+j]
			}
			w[i*c+j] = s
		}
	}
	return w
}

func (op invConvWeightOp) Arity() int {
	if op.grad == 0 {
		return 3
	}
	return 4
}
func (op invConvWeightOp) Type() hm.Type {
	if op.grad == 0 {
		return fnType(2, 2, 2, 4)
	}
	return fnType(2, 2, 2, 4, 2)
}
func (op invConvWeightOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	switch op.grad {
	case 0:
		return tensor.Shape{op.c, op.c, 1, 1}, nil
	case 3:
		return tensor.Shape{1, op.c}, nil
	}
	return tensor.Shape{op.c, op.c}, nil
}

// factors returns L and U as dense float64 matrices.
func (op invConvWeightOp) factors(lower, upper, logs []float32) (l, u []float64) {
	c := op.c
	l, u = make([]float64, c*c), make([]float64, c*c)
	for i := range c {
		for j := range c {
			switch {
			case j < i:
				l[i*c+j] = float64(lower[i*c+j])
			case j > i:
				u[i*c+j] = float64(upper[i*c+j])
			default:
				l[i*c+j] = 1
				u[i*c+j] = float64(op.sign[i]) * math.Exp(float64(logs[i]))
			}
		}
	}
	return l, u
}

func (op invConvWeightOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "invconv", vals, false)
	if err != nil {
		return nil, err
	}
	c := op.c
	l, u := op.factors(in[0], in[1], in[2])
	if op.grad == 0 {
		for i := range c {
			r := op.perm[i]
			for j := range c {
				var s float64
				for k := range c {
					s += l[r*c+k] * u[k*c+j]
				}
				dst[i*c+j] = float32(s)
			}
		}
		return out, nil
	}
	// With M = L U and W = P M: dM = P^T dW, i.e. row perm[i] of dM is row
	// i of dW; dL = dM U^T, dU = L^T dM.
	dw := in[3]
	dm := make([]float64, c*c)
	for i := range c {
		for j := range c {
			dm[op.perm[i]*c+j] = float64(dw[i*c+j])
		}
	}
	for i := range c {
		for j := range c {
			var s float64
			switch {
			case op.grad == 1 && j < i:
				for k := range c {
					s += dm[i*c+k] * u[j*c+k]
				}
				dst[i*c+j] = float32(s)
			case op.grad == 2 && j > i, op.grad == 3 && j == i:
				for k := range c {
					s += l[k*c+i] * dm[k*c+j]
				}
				if op.grad == 2 {
					dst[i*c+j] = float32(s)
				} else {
					dst[i] = float32(s * u[i*c+i]) // d/dlogs of sign exp(logs)
				}
			}
		}
	}
	return out, nil
}

func (op invConvWeightOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "InvConvW(%d,%v,%v,%d)", op.c, op.perm, op.sign, op.grad)
}
func (op invConvWeightOp) Hashcode() uint32     { return hashOf(op) }
func (op invConvWeightOp) String() string       { return fmt.Sprintf("InvConvWeight/%d", op.grad) }
func (op invConvWeightOp) DiffWRT(n int) []bool { return diffAll(n, op.grad == 0) }
func (op invConvWeightOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	var out G.Nodes
	for which := 1; which <= 3; which++ {
		back := op
		back.grad = which
		n, err := G.ApplyOp(back, inputs[0], inputs[1], inputs[2], grad)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
