package nets

import (
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs/ops"
)

// BCEWithLogits is the elementwise binary cross-entropy of targets x under
// logits l, in the form that cannot overflow or saturate:
// max(l,0) - x*l + log(1 + exp(-|l|)).
func BCEWithLogits(l, x *G.Node) *G.Node {
	negAbs := must(G.Neg(must(G.Abs(l))))
	softplusTail := must(G.Log1p(must(G.Exp(negAbs))))
	relu := must(G.Rectify(l))
	loss := must(G.Sub(relu, must(G.HadamardProd(x, l))))
	return must(G.Add(loss, softplusTail))
}

// scalar is a float32 constant for elementwise arithmetic with tensors.
func scalar(v float32) *G.Node { return G.NewConstant(v) }

// SoftmaxCrossEntropy is the batch mean of -sum_k y_k log softmax(logits)_k
// for logits and targets y of shape (B, K).
func SoftmaxCrossEntropy(logits, y *G.Node) *G.Node {
	batch := logits.Shape()[0]
	logp := ops.LogSoftmax(logits)
	return must(G.HadamardProd(must(G.Sum(must(G.HadamardProd(logp, y)))), scalar(-1/float32(batch))))
}
