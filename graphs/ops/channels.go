package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/internal/vec32"
)

// channelOp is one of the channel-axis bookkeeping ops of a U-Net on
// (B, C, H, W) images, each a loop of row copies where Gorgonia's
// broadcasting and Concat walk generic iterators:
//
//	chanAdd:   (x (B,C,H,W), v (B,C)) -> x + v[:, :, None, None]
//	chanSum:   dy (B,C,H,W) -> dy summed over H and W, (B,C): chanAdd's dv
//	chanCat:   (a (B,Ca,H,W), b (B,Cb,H,W)) -> (B,Ca+Cb,H,W)
//	chanSlice: y (B,C,H,W) -> channels [lo, hi): chanCat's gradients, SliceChannels
//	chanPad:   (B,hi-lo,H,W) -> (B,C,H,W) zero outside [lo, hi): chanSlice's gradient
type channelOp struct {
	pureOp
	kind     int
	b, c, hw int // the (first) input's batch, channels, pixels per channel
	h, w     int
	c2       int // chanCat: b's channels; chanSlice: hi
	lo       int // chanSlice
}

const (
	chanAdd = iota
	chanSum
	chanCat
	chanSlice
	chanPad
)

func newChannelOp(kind int, x *G.Node) channelOp {
	s := x.Shape()
	if len(s) != 4 {
		failf("channel op: want (B,C,H,W), got %v", s)
	}
	return channelOp{kind: kind, b: s[0], c: s[1], h: s[2], w: s[3], hw: s[2] * s[3]}
}

// AddPerChannel adds v (B, C), one value per image and channel, to every
// pixel of x (B, C, H, W): a U-Net's time embedding.
func AddPerChannel(x, v *G.Node) *G.Node {
	op := newChannelOp(chanAdd, x)
	if s := v.Shape(); len(s) != 2 || s[0] != op.b || s[1] != op.c {
		failf("add per channel: %v does not fit %v", s, x.Shape())
	}
	return must(G.ApplyOp(op, x, v))
}

// SliceChannels is x[:, lo:hi] of (B, C, H, W).
func SliceChannels(x *G.Node, lo, hi int) *G.Node {
	op := newChannelOp(chanSlice, x)
	if lo < 0 || hi > op.c || lo >= hi {
		failf("slice channels [%d, %d) of %v", lo, hi, x.Shape())
	}
	op.lo, op.c2 = lo, hi
	return must(G.ApplyOp(op, x))
}

// ConcatChannels is torch.cat([a, b], dim=1).
func ConcatChannels(a, b *G.Node) *G.Node {
	op := newChannelOp(chanCat, a)
	if s := b.Shape(); len(s) != 4 || s[0] != op.b || s[2] != op.h || s[3] != op.w {
		failf("concat: %v and %v differ beyond the channel axis", a.Shape(), s)
	}
	op.c2 = b.Shape()[1]
	return must(G.ApplyOp(op, a, b))
}

func (op channelOp) Arity() int {
	if op.kind == chanAdd || op.kind == chanCat {
		return 2
	}
	return 1
}
func (op channelOp) Type() hm.Type {
	switch op.kind {
	case chanAdd:
		return fnType(4, 2, 4)
	case chanSum:
		return fnType(4, 2)
	case chanCat:
		return fnType(4, 4, 4)
	}
	return fnType(4, 4)
}
func (op channelOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	switch op.kind {
	case chanSum:
		return tensor.Shape{op.b, op.c}, nil
	case chanCat:
		return tensor.Shape{op.b, op.c + op.c2, op.h, op.w}, nil
	case chanSlice:
		return tensor.Shape{op.b, op.c2 - op.lo, op.h, op.w}, nil
	case chanPad:
		return tensor.Shape{op.b, op.c, op.h, op.w}, nil
	}
	return tensor.Shape{op.b, op.c, op.h, op.w}, nil
}

func (op channelOp) Do(vals ...G.Value) (G.Value, error) {
	// Every kind but the padding writes every output element.
	in, out, dst, err := inputsAndOutput(op, op.String(), vals, op.kind != chanPad)
	if err != nil {
		return nil, err
	}
	hw := op.hw
	switch op.kind {
	case chanAdd:
		// x*1 + v is exactly x + v.
		parallelFor(op.b*op.c, max(1, elementwiseMin/hw), func(lo, hi int) {
			for i, v := range in[1][lo:hi] {
				p := (lo + i) * hw
				vec32.Affine(in[0][p:p+hw], dst[p:p+hw], 1, v)
			}
		})
	case chanSum:
		parallelFor(op.b*op.c, max(1, elementwiseMin/hw), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = float32(vec32.Sum(in[0][i*hw : (i+1)*hw]))
			}
		})
	case chanCat:
		na, nb := op.c*hw, op.c2*hw
		parallelFor(op.b, max(1, elementwiseMin/(na+nb)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				copy(dst[i*(na+nb):], in[0][i*na:(i+1)*na])
				copy(dst[i*(na+nb)+na:], in[1][i*nb:(i+1)*nb])
			}
		})
	case chanSlice:
		n := (op.c2 - op.lo) * hw
		for i := range op.b {
			copy(dst[i*n:(i+1)*n], in[0][(i*op.c+op.lo)*hw:])
		}
	case chanPad:
		n := (op.c2 - op.lo) * hw
		for i := range op.b {
			copy(dst[(i*op.c+op.lo)*hw:][:n], in[0][i*n:(i+1)*n])
		}
	}
	return out, nil
}

func (op channelOp) WriteHash(h hash.Hash) {
	// Every field, spelled out: %v of op would print its String(), and
	// Gorgonia merges nodes whose ops hash alike (the two halves of a
	// concatenation's gradient would become one).
	fmt.Fprintf(h, "Channels(%d,%d,%d,%d,%d,%d,%d,%d)", op.kind, op.b, op.c, op.hw, op.h, op.w, op.c2, op.lo)
}
func (op channelOp) Hashcode() uint32 { return hashOf(op) }
func (op channelOp) String() string {
	return [...]string{"AddPerChannel", "SumPerChannel", "ConcatChannels", "SliceChannels", "PadChannels"}[op.kind]
}
func (op channelOp) DiffWRT(n int) []bool {
	return diffAll(n, op.kind == chanAdd || op.kind == chanCat || op.kind == chanSlice)
}
func (op channelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	switch op.kind {
	case chanAdd:
		// dx is a copy of dy (the tape machine accumulates gradients in
		// place, so one node must not be two inputs' gradients); dv sums dy
		// over the pixels.
		dx, err := G.ApplyOp(channelOp{kind: chanSlice, b: op.b, c: op.c, h: op.h, w: op.w, hw: op.hw, c2: op.c}, grad)
		if err != nil {
			return nil, err
		}
		sum := op
		sum.kind = chanSum
		dv, err := G.ApplyOp(sum, grad)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx, dv}, nil
	case chanCat:
		slice := channelOp{kind: chanSlice, b: op.b, c: op.c + op.c2, h: op.h, w: op.w, hw: op.hw}
		slice.lo, slice.c2 = 0, op.c
		da, err := G.ApplyOp(slice, grad)
		if err != nil {
			return nil, err
		}
		slice.lo, slice.c2 = op.c, op.c+op.c2
		db, err := G.ApplyOp(slice, grad)
		if err != nil {
			return nil, err
		}
		return G.Nodes{da, db}, nil
	case chanSlice:
		pad := op
		pad.kind = chanPad
		return applyOne(pad, grad)
	}
	return nil, fmt.Errorf("%v is not differentiable", op)
}
