package ops

import (
	"fmt"
	"hash"
	"math"

	G "gorgonia.org/gorgonia"
)

// LogSoftmax over the last axis of a (B, K) matrix. Gorgonia v0.9.18's
// LogSoftMax and SoftMax (tensor's softMaxLastDimF32) shift each row by the
// wrong maximum: they start it at the first element of the whole matrix,
// not of the row, and never look at the row's own first element. The shift
// cancels in exact arithmetic, but a row whose logits all lie about 88
// below the matrix's first logit has every exponential underflow to 0 and
// gets log(0) = -Inf, and a row whose first logit lies 88 above the shift
// overflows to +Inf. Confident classifiers reach such spreads: the SSVAE's
// q(y|x), trained on 100 labels with weight 60 each, stopped with a
// non-finite loss in its 30th epoch. They also start a goroutine per row.
//
// This op shifts each row by its own maximum, so no exponential exceeds 1
// and the row's sum is at least 1: log-probabilities are finite for every
// finite input. Its backward op is (x, dy, y) -> dy - softmax * sum(dy),
// softmax = e^y, from the output alone.
type logSoftmaxOp struct {
	activation
	rows, cols int
}

// LogSoftmax is log(softmax(x)) along the last axis of x (B, K).
func LogSoftmax(x *G.Node) *G.Node {
	s := x.Shape()
	if len(s) != 2 || s[1] < 1 {
		failf("log softmax: input %v is not a (B, K) matrix", s)
	}
	return must(G.ApplyOp(logSoftmaxOp{activation: activation{shape: s.Clone(), backInputs: 3}, rows: s[0], cols: s[1]}, x))
}

// Softmax is softmax(x) along the last axis of x (B, K): e^LogSoftmax(x).
func Softmax(x *G.Node) *G.Node { return must(G.Exp(LogSoftmax(x))) }

func (op logSoftmaxOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := float32Inputs("log softmax", vals)
	if err != nil {
		return nil, err
	}
	n := op.rows * op.cols
	x := in[0][:n]
	out, y := overwrittenOutputOf(op)
	grain := max(1, elementwiseMin/op.cols)
	if op.grad {
		dy, lp := in[1][:n], in[2][:n]
		parallelFor(op.rows, grain, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := r * op.cols
				var sum float64
				for j := row; j < row+op.cols; j++ {
					sum += float64(dy[j])
				}
				s := float32(sum)
				for j := row; j < row+op.cols; j++ {
					y[j] = dy[j] - expNeg(-lp[j])*s
				}
			}
		})
		return out, nil
	}
	parallelFor(op.rows, grain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*op.cols : (r+1)*op.cols]
			m := row[0]
			for _, v := range row[1:] {
				m = max(m, v)
			}
			var sum float64
			for _, v := range row {
				sum += float64(expNeg(m - v)) // m - v >= 0: e^(v-m) <= 1
			}
			// (v - m) - log(sum), not v - (m + log(sum)): far from 0 the
			// sum m + log(sum) would round away most of log(sum).
			ls := float32(math.Log(sum)) // sum >= 1: the maximum's own term
			dst := y[r*op.cols : (r+1)*op.cols]
			for j, v := range row {
				dst[j] = (v - m) - ls
			}
		}
	})
	return out, nil
}

func (op logSoftmaxOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "LogSoftmax(%d,%d,%v)", op.rows, op.cols, op.grad)
}
func (op logSoftmaxOp) Hashcode() uint32 { return hashOf(op) }
func (op logSoftmaxOp) String() string   { return "LogSoftmax" }
func (op logSoftmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := op
	back.grad = true
	return applyOne(back, inputs[0], grad, output)
}
