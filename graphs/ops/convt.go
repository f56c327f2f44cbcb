package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
)

// convTransposeOp is PyTorch's ConvTranspose2d: (B, In, H, W) images and
// (In, Out, K, K) filters give (B, Out, (H-1)S - 2P + K, ...) images.
// Gorgonia has none. A transposed convolution is the adjoint of the
// convolution that maps its output shape back to its input shape with the
// same filters (seen as (O=In, C=Out, K, K)), so every pass is a pass of
// convOp with that geometry adj and the roles of the tensors exchanged:
//
//	forward  y  = adj's dL/dx applied to x       (W^T x, then col2im)
//	dL/dx       = adj's forward applied to dy    (im2col, then W dy)
//	dL/dW       = adj's dL/dW with dy and x swapped
//	dL/db       = dy summed over batch and space
type convTransposeOp struct {
	pureOp
	adj         convGeom // the adjoint convolution: C = Out, O = In, H,W = output, Ho,Wo = input
	bias        bool
	grad        int // 0: forward; 1: dx, 2: dW, 3: db (each from x, W, dy)
	noInputGrad bool
}

func newConvTransposeGeom(x, w tensor.Shape, stride, pad int) (convGeom, error) {
	if len(x) != 4 || len(w) != 4 || x[1] != w[0] || w[2] != w[3] {
		return convGeom{}, fmt.Errorf("conv transpose: input %v and filters %v do not fit", x, w)
	}
	k := w[2]
	ho, wo := (x[2]-1)*stride-2*pad+k, (x[3]-1)*stride-2*pad+k
	if ho <= 0 || wo <= 0 {
		return convGeom{}, fmt.Errorf("conv transpose: %dx%d input gives an empty output", x[2], x[3])
	}
	adj, err := newConvGeom(tensor.Shape{x[0], w[1], ho, wo}, tensor.Shape{w[0], w[1], k, k}, stride, pad, false)
	if err != nil {
		return convGeom{}, err
	}
	if adj.Ho != x[2] || adj.Wo != x[3] {
		return convGeom{}, fmt.Errorf("conv transpose: %v with stride %d is not the adjoint of a convolution", x, stride)
	}
	return adj, nil
}

// ConvTranspose2d is PyTorch's F.conv_transpose2d with square kernels: x
// (B, In, H, W) and w (In, Out, K, K), plus an optional bias viewed as
// (1, Out) (nil: none), as one op (convTransposeOp). noInputGrad is as for
// Conv2d.
func ConvTranspose2d(x, w, bias *G.Node, stride, pad int, noInputGrad bool) *G.Node {
	adj, err := newConvTransposeGeom(x.Shape(), w.Shape(), stride, pad)
	if err != nil {
		graphs.Fail(err)
	}
	op := convTransposeOp{adj: adj, bias: bias != nil, noInputGrad: noInputGrad}
	if bias == nil {
		return must(G.ApplyOp(op, x, w))
	}
	return must(G.ApplyOp(op, x, w, bias))
}

func (op convTransposeOp) Arity() int    { return convArity(op.grad, op.bias) }
func (op convTransposeOp) Type() hm.Type { return convType(op.grad, op.bias) }

// InferShape: x is the adjoint's output, y its input.
func (op convTransposeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return convShape(op.grad, op.adj.outShape(), op.adj.filterShape(), op.adj.inShape()), nil
}

func (op convTransposeOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "conv transpose", vals, false)
	if err != nil {
		return nil, err
	}
	a := op.adj
	if op.grad != 3 {
		macs.Add(a.macs())
	}
	switch op.grad {
	case 0:
		convOp{g: a, grad: 1}.compute([][]float32{nil, in[1], in[0]}, dst)
		if op.bias {
			hw := a.H * a.W
			for b := 0; b < a.B; b++ {
				for c, v := range in[2][:a.C] {
					row := dst[(b*a.C+c)*hw : (b*a.C+c+1)*hw]
					for i := range row {
						row[i] += v
					}
				}
			}
		}
	case 1:
		convOp{g: a}.compute([][]float32{in[2], in[1]}, dst)
	case 2:
		convOp{g: a, grad: 2}.compute([][]float32{in[2], nil, in[0]}, dst)
	case 3:
		hw := a.H * a.W
		for b := 0; b < a.B; b++ {
			for c := range a.C {
				var s float32
				for _, v := range in[2][(b*a.C+c)*hw : (b*a.C+c+1)*hw] {
					s += v
				}
				dst[c] += s
			}
		}
	}
	return out, nil
}

func (op convTransposeOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ConvT%+v/%v/%d/%v", op.adj, op.bias, op.grad, op.noInputGrad)
}
func (op convTransposeOp) Hashcode() uint32 { return hashOf(op) }
func (op convTransposeOp) String() string {
	a := op.adj
	return fmt.Sprintf("ConvT(%d->%d,k%d,s%d,p%d)/%d", a.O, a.C, a.K, a.S, a.P, op.grad)
}
func (op convTransposeOp) DiffWRT(n int) []bool { return convDiffWRT(n, op.grad, op.noInputGrad) }
func (op convTransposeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return convSymDiff(inputs, grad, op.noInputGrad, func(which int) G.Op {
		return convTransposeOp{adj: op.adj, bias: op.bias, grad: which}
	})
}
