package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
)

// leakyOp is max(x, 0) + slope*min(x, 0) (ReLU when slope is 0) in one pass.
// Gorgonia builds LeakyRelu and Rectify from comparison ops that materialize
// masks and then multiply, several passes and allocations per activation;
// they were a tenth of a GAN step. grad selects the backward op
// (x, dy) -> dy * (x > 0 ? 1 : slope).
type leakyOp struct {
	pureOp
	slope float32
	shape tensor.Shape
	grad  bool
}

// LeakyReLU applies the activation with the given negative slope.
func LeakyReLU(x *G.Node, slope float64) *G.Node {
	return must(G.ApplyOp(leakyOp{slope: float32(slope), shape: x.Shape().Clone()}, x))
}

// ReLU is LeakyReLU with slope 0.
func ReLU(x *G.Node) *G.Node { return LeakyReLU(x, 0) }

func (op leakyOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op leakyOp) Type() hm.Type {
	t := G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')}
	if op.grad {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}
func (op leakyOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op leakyOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := float32Data(vals[0])
	if err != nil {
		return nil, fmt.Errorf("leaky relu: %w", err)
	}
	out := graphs.NewOutput(op.shape, false) // every element is written
	y := out.Data().([]float32)[:len(x)]
	// factor[i] is 1 where x > 0 and the slope elsewhere (PyTorch's
	// gradient at 0), chosen by the sign and zero-ness of x's bits rather
	// than a branch: activations' signs are random, and a mispredicted
	// branch per element made this op a tenth of a DCGAN step.
	factor := [2]float32{1, op.slope}
	if op.grad {
		dy, err := float32Data(vals[1])
		if err != nil {
			return nil, fmt.Errorf("leaky relu gradient: %w", err)
		}
		dy = dy[:len(x)]
		for i, v := range x {
			y[i] = dy[i] * factor[notPositive(v)]
		}
		return out, nil
	}
	for i, v := range x {
		y[i] = v * factor[notPositive(v)]
	}
	return out, nil
}

// notPositive is 0 when v > 0 and 1 otherwise (zero, negative or -0), with
// no branch: the sign bit, or the borrow of bits-1 when all bits are 0.
func notPositive(v float32) int {
	bits := math.Float32bits(v)
	return int((bits>>31)|((bits-1)>>31)) & 1
}

func (op leakyOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "LeakyReLU(%v,%v,%v)", op.slope, op.shape, op.grad)
}
func (op leakyOp) Hashcode() uint32 { return hashOf(op) }
func (op leakyOp) String() string   { return fmt.Sprintf("LeakyReLU(%v)", op.slope) }
func (op leakyOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = !op.grad
	return d
}
func (op leakyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := op
	back.grad = true
	n, err := G.ApplyOp(back, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{n}, nil
}
