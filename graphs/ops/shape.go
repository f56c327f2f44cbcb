package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops that rearrange a tensor's elements into a new shape: the copying
// Reshape and 2x nearest-neighbour upsampling.

// reshapeCopyOp is a reshape that copies. Gorgonia's own Reshape returns a
// view of its input, and the tape machine may then run a later elementwise
// op in place on that view, silently overwriting the input (upstream issue
// #511): weights drift and saved activations change before the backward
// pass uses them. Copying costs one memmove and removes the hazard.
type reshapeCopyOp struct {
	pureOp
	from, to tensor.Shape
}

// Reshape returns x with a new shape of the same size, as a copy.
func Reshape(x *G.Node, shape ...int) *G.Node {
	to := tensor.Shape(shape)
	if to.TotalSize() != x.Shape().TotalSize() {
		failf("reshape %v to %v: sizes differ", x.Shape(), to)
	}
	return must(G.ApplyOp(reshapeCopyOp{from: x.Shape().Clone(), to: to.Clone()}, x))
}

func (op reshapeCopyOp) Arity() int { return 1 }

func (op reshapeCopyOp) Type() hm.Type { return fnType(op.from.Dims(), op.to.Dims()) }

func (op reshapeCopyOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.to.Clone(), nil }

func (op reshapeCopyOp) Do(vals ...G.Value) (G.Value, error) {
	in, ok := vals[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("reshape: want a dense tensor, got %T", vals[0])
	}
	src, ok := in.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("reshape: want float32 data, got %v", in.Dtype())
	}
	if !in.IsMaterializable() && in.DataOrder().IsRowMajor() && len(src) == op.to.TotalSize() {
		out := newOutput(op.to)
		copy(out.Data().([]float32), src)
		return out, nil
	}
	// A view with strides of its own (a transpose not yet applied) is
	// materialized first, so the copy follows the logical order.
	m := in.Materialize().(*tensor.Dense)
	out := newOutput(op.to)
	copy(out.Data().([]float32), m.Data().([]float32))
	return out, nil
}

func (op reshapeCopyOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ReshapeCopy%v->%v", op.from, op.to)
}
func (op reshapeCopyOp) Hashcode() uint32 { return hashOf(op) }
func (op reshapeCopyOp) String() string   { return fmt.Sprintf("ReshapeCopy%v", op.to) }

// DiffWRT implements G.SDOp.
func (op reshapeCopyOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff implements G.SDOp: the gradient is reshaped back, also by copy.
func (op reshapeCopyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return applyOne(reshapeCopyOp{from: op.to.Clone(), to: op.from.Clone()}, grad)
}

// upsampleOp is 2x nearest-neighbour upsampling of (B, C, H, W) to
// (B, C, 2H, 2W). Gorgonia's Upsample2D walks elements through At/SetAt
// (about 130 ms for a (64,64,7,7) forward and backward); this op copies rows.
// Its gradient sums each 2x2 block of the output gradient.
type upsampleOp struct {
	pureOp
	b, c, h, w int
	grad       bool // the backward op: (B,C,2H,2W) -> (B,C,H,W)
}

// Upsample2x applies 2x nearest-neighbour upsampling to x of shape (B,C,H,W).
func Upsample2x(x *G.Node) *G.Node {
	s := x.Shape()
	if len(s) != 4 {
		failf("upsample: want (B,C,H,W), got %v", s)
	}
	return must(G.ApplyOp(upsampleOp{b: s[0], c: s[1], h: s[2], w: s[3]}, x))
}

func (op upsampleOp) Arity() int    { return 1 }
func (op upsampleOp) Type() hm.Type { return uniformType(4, 1) }
func (op upsampleOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{op.b, op.c, op.h, op.w}, nil
	}
	return tensor.Shape{op.b, op.c, 2 * op.h, 2 * op.w}, nil
}
func (op upsampleOp) Do(vals ...G.Value) (G.Value, error) {
	src, err := float32Data(vals[0])
	if err != nil {
		return nil, fmt.Errorf("upsample: %w", err)
	}
	out, dst := overwrittenOutputOf(op) // every pixel is written, either way
	planes, h, w := op.b*op.c, op.h, op.w
	parallelFor(planes, max(1, elementwiseMin/(4*h*w)), func(lo, hi int) { op.planes(src, dst, lo, hi) })
	return out, nil
}

// planes upsamples planes lo..hi-1 of src into dst (or sums them back, for
// the gradient).
func (op upsampleOp) planes(src, dst []float32, lo, hi int) {
	h, w := op.h, op.w
	for p := lo; p < hi; p++ {
		small := p * h * w   // offset of the (h, w) plane
		big := p * 4 * h * w // offset of the (2h, 2w) plane
		for y := 0; y < h; y++ {
			top := big + 2*y*2*w // rows 2y and 2y+1 of the big plane
			bottom := top + 2*w
			row := small + y*w
			if op.grad {
				for x := 0; x < w; x++ {
					dst[row+x] = src[top+2*x] + src[top+2*x+1] + src[bottom+2*x] + src[bottom+2*x+1]
				}
				continue
			}
			for x := 0; x < w; x++ {
				v := src[row+x]
				dst[top+2*x], dst[top+2*x+1] = v, v
			}
			copy(dst[bottom:bottom+2*w], dst[top:top+2*w])
		}
	}
}

func (op upsampleOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Upsample2x(%d,%d,%d,%d,%v)", op.b, op.c, op.h, op.w, op.grad)
}
func (op upsampleOp) Hashcode() uint32 { return hashOf(op) }
func (op upsampleOp) String() string {
	if op.grad {
		return "Upsample2xGrad"
	}
	return "Upsample2x"
}
func (op upsampleOp) DiffWRT(int) []bool { return []bool{!op.grad} }
func (op upsampleOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := op
	back.grad = true
	return applyOne(back, grad)
}
