package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops built on log(1 + e^x): Softplus, and the binary cross-entropy of
// a Bernoulli decoder's logits summed over each row. Gorgonia's Softplus
// calls math.Log1p(math.Exp(x)) through a function value per element and
// its gradient is a separate sigmoid and product; the cross-entropy built
// from primitives (nets.BCEWithLogits) is eight elementwise ops, each
// allocating, and as many backward. Together they were two thirds of an
// SSVAE step. Each op here is one pass that, when the graph differentiates
// it, keeps sigmoid(x) for its backward op, which then needs no
// exponentials.

// logistic returns softplus(v) = log(1 + e^v) and sigmoid(v), from one
// exponential, without overflow: softplus(v) = max(v, 0) + log1p(e^-|v|).
// It is float32 arithmetic throughout, within 3e-7 of the exact values
// (relative for softplus, absolute for sigmoid): math.Exp and math.Log1p
// in float64 made these ops more than half of an SSVAE step.
func logistic(v float32) (softplus, sigmoid float32) {
	e := expNeg(abs32(v))
	inv := 1 / (1 + e)
	if v < 0 {
		return log1pUnit(e), e * inv
	}
	return v + log1pUnit(e), inv
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// expNeg is e^-a for a >= 0 to within 2 ulp, 0 below float32's normal
// range: e^-a = 2^k e^r with k the integer nearest -a/ln 2 and |r| <= ln2/2,
// e^r by its Taylor series to r^7.
func expNeg(a float32) float32 {
	if !(a < 87) { // e^-87 is near float32's smallest normal; NaN stays NaN below
		if a != a {
			return a
		}
		return 0
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125 // ln 2 split so that k*ln2hi is exact
		ln2lo = 1.42860682030941723212e-6
	)
	k := int32(-a*log2e - 0.5) // rounds to nearest: the argument is negative
	kf := float32(k)
	r := (-a - kf*ln2hi) - kf*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// log1pUnit is log(1 + t) for t in [0, 1]: 2 atanh(u) with u = t / (2 + t)
// in [0, 1/3], its series summed to u^13 (the rest is below 1e-7).
func log1pUnit(t float32) float32 {
	u := t / (2 + t)
	u2 := u * u
	return 2 * u * (1 + u2*(1.0/3+u2*(1.0/5+u2*(1.0/7+u2*(1.0/9+u2*(1.0/11+u2*(1.0/13)))))))
}

// sigmoidSaved is sigmoid(x) of a forward pass, kept for its backward op.
type sigmoidSaved struct {
	s        []float32
	backward bool // whether a backward op exists (SymDiff was called)
}

// keep returns the buffer for n values of sigmoid(x), or nil when no
// backward op will read them.
func (k *sigmoidSaved) keep(n int) []float32 {
	if !k.backward {
		return nil
	}
	if len(k.s) != n {
		k.s = make([]float32, n)
	}
	return k.s
}

// softplusOp is softplus(x) = log(1 + e^x) elementwise; its backward op is
// (x, dy, y) -> dy * sigmoid(x), y only ordering it after the forward pass.
type softplusOp struct {
	activation
	saved *sigmoidSaved
}

// Softplus applies log(1 + e^x) elementwise.
func Softplus(x *G.Node) *G.Node {
	return must(G.ApplyOp(softplusOp{activation: activation{shape: x.Shape().Clone(), backInputs: 3}, saved: &sigmoidSaved{}}, x))
}

func (op softplusOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := float32Inputs("softplus", vals)
	if err != nil {
		return nil, err
	}
	x := in[0]
	out, y := overwrittenOutputOf(op)
	y = y[:len(x)]
	if op.grad {
		s := op.saved.s
		if len(s) != len(x) {
			return nil, fmt.Errorf("softplus: backward pass before the forward pass")
		}
		dy := in[1][:len(x)]
		for i := range y {
			y[i] = dy[i] * s[i]
		}
		return out, nil
	}
	s := op.saved.keep(len(x))
	parallelFor(len(x), elementwiseMin, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sp, sg := logistic(x[i])
			y[i] = sp
			if s != nil {
				s[i] = sg
			}
		}
	})
	return out, nil
}

func (op softplusOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Softplus(%v,%v,%p)", op.shape, op.grad, op.saved)
}
func (op softplusOp) Hashcode() uint32 { return hashOf(op) }
func (op softplusOp) String() string   { return "Softplus" }
func (op softplusOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.saved.backward = true
	back := op
	back.grad = true
	return applyOne(back, inputs[0], grad, output)
}

// bceRowsOp is the binary cross-entropy of targets x in [0, 1] under logits
// l, both (B, D), summed over each row: (B) values
// sum_j max(l,0) - x*l + log1p(e^-|l|), the negative log-likelihood of a
// Bernoulli decoder per image. Its backward op (l, x, dy, y) ->
// dy[r] * (sigmoid(l) - x) differentiates the logits only; the targets are
// data.
type bceRowsOp struct {
	pureOp
	rows, cols int
	grad       bool
	saved      *sigmoidSaved
}

// BCEWithLogitsRows returns the per-row sums of the binary cross-entropy of
// targets x under logits l, both of shape (B, D).
func BCEWithLogitsRows(l, x *G.Node) *G.Node {
	ls, xs := l.Shape(), x.Shape()
	if len(ls) != 2 || !ls.Eq(xs) {
		failf("bce rows: logits %v and targets %v must be the same (B, D)", ls, xs)
	}
	return must(G.ApplyOp(bceRowsOp{rows: ls[0], cols: ls[1], saved: &sigmoidSaved{}}, l, x))
}

func (op bceRowsOp) Arity() int {
	if op.grad {
		return 4
	}
	return 2
}

func (op bceRowsOp) Type() hm.Type {
	if op.grad { // (l, x, dy, y) -> dl
		return fnType(2, 2, 1, 1, 2)
	}
	return fnType(2, 2, 1)
}

func (op bceRowsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{op.rows, op.cols}, nil
	}
	return tensor.Shape{op.rows}, nil
}

func (op bceRowsOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = !op.grad
	return d
}

func (op bceRowsOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := float32Inputs("bce rows", vals)
	if err != nil {
		return nil, err
	}
	n := op.rows * op.cols
	l, x := in[0][:n], in[1][:n]
	out, y := overwrittenOutputOf(op)
	if op.grad {
		s := op.saved.s
		if len(s) != n {
			return nil, fmt.Errorf("bce rows: backward pass before the forward pass")
		}
		dy := in[2]
		parallelFor(op.rows, max(1, elementwiseMin/op.cols), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				g := dy[r]
				for j := r * op.cols; j < (r+1)*op.cols; j++ {
					y[j] = g * (s[j] - x[j])
				}
			}
		})
		return out, nil
	}
	s := op.saved.keep(n)
	parallelFor(op.rows, max(1, elementwiseMin/op.cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var sum float64
			for j := r * op.cols; j < (r+1)*op.cols; j++ {
				sp, sg := logistic(l[j])
				// softplus(l) - x*l = max(l,0) - x*l + log1p(e^-|l|).
				sum += float64(sp) - float64(x[j])*float64(l[j])
				if s != nil {
					s[j] = sg
				}
			}
			y[r] = float32(sum)
		}
	})
	return out, nil
}

func (op bceRowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "BCERows(%d,%d,%v,%p)", op.rows, op.cols, op.grad, op.saved)
}
func (op bceRowsOp) Hashcode() uint32 { return hashOf(op) }
func (op bceRowsOp) String() string   { return "BCEWithLogitsRows" }
func (op bceRowsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.saved.backward = true
	back := op
	back.grad = true
	dl, err := G.ApplyOp(back, inputs[0], inputs[1], grad, output)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dl, nil}, nil
}
