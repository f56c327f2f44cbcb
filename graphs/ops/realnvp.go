package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ImageMask is the partition of a convolutional RealNVP coupling (Dinh et
// al. 2017, section 3.4) on x (B, C, H, W): the elements it keeps condition
// the network and pass unchanged, the others are transformed.
//
//	checkerboard: the pixels with y+x even (Odd: odd) are kept, in every
//	              channel; every channel is transformed at the other pixels
//	channel-wise: the first C/2 channels (Odd: the last C/2) are kept, the
//	              other half is transformed at every pixel
type ImageMask struct {
	ChannelWise, Odd bool
}

// String names the mask in errors and op names.
func (m ImageMask) String() string {
	kind, half := "checkerboard", "even"
	if m.ChannelWise {
		kind, half = "channel", "first"
		if m.Odd {
			half = "second"
		}
	} else if m.Odd {
		half = "odd"
	}
	return kind + "/" + half
}

// Transformed is the number of channels of x that the coupling transforms
// somewhere (ct): C for a checkerboard, C/2 channel-wise. The network's
// output h has 2ct channels, s_raw then t, and the scale ct.
func (m ImageMask) Transformed(c int) int {
	if m.ChannelWise {
		return c / 2
	}
	return c
}

// first is x's first transformed channel.
func (m ImageMask) first(c int) int {
	if m.ChannelWise && !m.Odd {
		return c / 2
	}
	return 0
}

// keptPixel reports whether pixel (y, x) of a transformed channel is kept
// (always false channel-wise).
func (m ImageMask) keptPixel(y, x int) bool {
	return !m.ChannelWise && ((y+x)%2 == 1) == m.Odd
}

// rnvpOp is the elementwise part of a convolutional RealNVP coupling with
// the tanh-bounded, per-channel rescaled log-scale of Dinh et al.: given the
// network's output h = [s_raw, t] (B, 2ct, H, W) on the kept part and scale
// (1, ct), at each transformed element of x
//
//	s = scale tanh(s_raw),  y = x exp(s) + t,  log|det dy/dx| = sum s,
//
// and y = x at the kept elements, which add nothing to log|det|. The kinds:
//
//	checkerMask: x -> x m (the network's input, checkerboard masks; its own gradient)
//	forward:     (x, h, scale) -> y
//	inverse:     (y, h, scale) -> x = (y - t) exp(-s)
//	logDet:      (h, scale) -> (B, 1)
//
// and the gradients of forward and logDet.
type rnvpOp struct {
	pureOp
	kind       int
	b, c, h, w int // x's shape
	mask       ImageMask
}

const (
	rnvpCheckerMask = iota
	rnvpForward
	rnvpForwardDX // (x, h, scale, dy) -> dx
	rnvpForwardDH // (x, h, scale, dy) -> dh
	rnvpForwardDS // (x, h, scale, dy) -> dscale
	rnvpInverse
	rnvpLogDet
	rnvpLogDetDH // (h, scale, g (B,1)) -> dh
	rnvpLogDetDS // (h, scale, g) -> dscale
)

// newRNVPOp is the op of kind for an x of shape (b, c, h, w).
func newRNVPOp(kind int, s tensor.Shape, m ImageMask) rnvpOp {
	if len(s) != 4 {
		failf("realnvp coupling: want (B,C,H,W), got %v", s)
	}
	op := rnvpOp{kind: kind, b: s[0], c: s[1], h: s[2], w: s[3], mask: m}
	if m.ChannelWise && op.c%2 != 0 {
		failf("realnvp coupling: a channel-wise mask needs an even channel count, got %v", s)
	}
	if !m.ChannelWise && op.h*op.w < 2 {
		failf("realnvp coupling: a checkerboard mask needs two pixels, got %v", s)
	}
	return op
}

// checkArgs fails unless h (B, 2ct, H, W) and scale (1, ct) fit the op.
func (op rnvpOp) checkArgs(h, scale *G.Node) {
	ct := op.mask.Transformed(op.c)
	if s := h.Shape(); len(s) != 4 || s[0] != op.b || s[1] != 2*ct || s[2] != op.h || s[3] != op.w {
		failf("realnvp coupling %v: h %v is not (%d, %d, %d, %d)", op.mask, s, op.b, 2*ct, op.h, op.w)
	}
	if s := scale.Shape(); len(s) != 2 || s[0] != 1 || s[1] != ct {
		failf("realnvp coupling %v: scale %v is not (1, %d)", op.mask, s, ct)
	}
}

// CheckerboardMask is x m for x (B, C, H, W) and the checkerboard mask m
// that keeps the pixels with y+x even (odd: odd): the input of a
// checkerboard coupling's network.
func CheckerboardMask(x *G.Node, odd bool) *G.Node {
	return must(G.ApplyOp(newRNVPOp(rnvpCheckerMask, x.Shape(), ImageMask{Odd: odd}), x))
}

// AffineCoupling is the coupling of x (B, C, H, W) given the network's
// output h = [s_raw, t] (B, 2ct, H, W) and the per-channel scale (1, ct):
// x exp(scale tanh(s_raw)) + t at the elements m transforms, x elsewhere.
func AffineCoupling(x, h, scale *G.Node, m ImageMask) *G.Node {
	op := newRNVPOp(rnvpForward, x.Shape(), m)
	op.checkArgs(h, scale)
	return must(G.ApplyOp(op, x, h, scale))
}

// AffineCouplingInverse undoes AffineCoupling given the same h and scale.
func AffineCouplingInverse(y, h, scale *G.Node, m ImageMask) *G.Node {
	op := newRNVPOp(rnvpInverse, y.Shape(), m)
	op.checkArgs(h, scale)
	return must(G.ApplyOp(op, y, h, scale))
}

// AffineCouplingLogDet is AffineCoupling's log|det| per image, (B, 1): the
// sum of scale tanh(s_raw) over the transformed elements of an x of c
// channels.
func AffineCouplingLogDet(h, scale *G.Node, m ImageMask, c int) *G.Node {
	s := h.Shape()
	if len(s) != 4 {
		failf("realnvp coupling: want h (B,2ct,H,W), got %v", s)
	}
	op := newRNVPOp(rnvpLogDet, tensor.Shape{s[0], c, s[2], s[3]}, m)
	op.checkArgs(h, scale)
	return must(G.ApplyOp(op, h, scale))
}

func (op rnvpOp) Arity() int {
	switch op.kind {
	case rnvpCheckerMask:
		return 1
	case rnvpLogDet:
		return 2
	case rnvpForward, rnvpInverse, rnvpLogDetDH, rnvpLogDetDS:
		return 3
	}
	return 4
}

func (op rnvpOp) Type() hm.Type {
	switch op.kind {
	case rnvpCheckerMask:
		return fnType(4, 4)
	case rnvpForward, rnvpInverse:
		return fnType(4, 4, 2, 4)
	case rnvpForwardDX, rnvpForwardDH:
		return fnType(4, 4, 2, 4, 4)
	case rnvpForwardDS:
		return fnType(4, 4, 2, 4, 2)
	case rnvpLogDet:
		return fnType(4, 2, 2)
	case rnvpLogDetDH:
		return fnType(4, 2, 2, 4)
	}
	return fnType(4, 2, 2, 2) // rnvpLogDetDS
}

func (op rnvpOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	ct := op.mask.Transformed(op.c)
	switch op.kind {
	case rnvpForwardDH, rnvpLogDetDH:
		return tensor.Shape{op.b, 2 * ct, op.h, op.w}, nil
	case rnvpForwardDS, rnvpLogDetDS:
		return tensor.Shape{1, ct}, nil
	case rnvpLogDet:
		return tensor.Shape{op.b, 1}, nil
	}
	return tensor.Shape{op.b, op.c, op.h, op.w}, nil
}

func (op rnvpOp) Do(vals ...G.Value) (G.Value, error) {
	// The mask, forward, inverse and dx write every element; the others
	// leave the kept elements' zeros or accumulate.
	full := op.kind == rnvpCheckerMask || op.kind == rnvpForward || op.kind == rnvpInverse || op.kind == rnvpForwardDX
	in, out, dst, err := inputsAndOutput(op, op.String(), vals, full)
	if err != nil {
		return nil, err
	}
	ct := op.mask.Transformed(op.c)
	perImage := op.c * op.h * op.w
	if op.kind == rnvpForwardDS || op.kind == rnvpLogDetDS {
		// Per-channel sums over the batch: one partial sum per half of the
		// batch, added in a fixed order.
		var parts [2][]float64
		parallelFor(op.b, max(1, elementwiseMin/perImage), func(lo, hi int) {
			acc := make([]float64, ct)
			op.images(in, dst, acc, lo, hi)
			parts[min(lo, 1)] = acc
		})
		for k := range ct {
			var sum float64
			for _, part := range parts {
				if part != nil {
					sum += part[k]
				}
			}
			dst[k] = float32(sum)
		}
		return out, nil
	}
	parallelFor(op.b, max(1, elementwiseMin/perImage), func(lo, hi int) { op.images(in, dst, nil, lo, hi) })
	return out, nil
}

// images runs the op on images lo..hi-1; the scale gradients add into acc.
func (op rnvpOp) images(in [][]float32, dst []float32, acc []float64, lo, hi int) {
	c, hw, w := op.c, op.h*op.w, op.w
	ct, first := op.mask.Transformed(c), op.mask.first(c)
	for n := lo; n < hi; n++ {
		if op.kind == rnvpCheckerMask {
			for ch := range c {
				row := (n*c + ch) * hw
				for p := range hw {
					if op.mask.keptPixel(p/w, p%w) {
						dst[row+p] = in[0][row+p]
					} else {
						dst[row+p] = 0
					}
				}
			}
			continue
		}
		// The kept channels pass unchanged (forward, inverse, dx).
		if op.kind == rnvpForward || op.kind == rnvpInverse || op.kind == rnvpForwardDX {
			src := in[0]
			if op.kind == rnvpForwardDX {
				src = in[3]
			}
			for ch := range c {
				if ch < first || ch >= first+ct {
					row := (n*c + ch) * hw
					copy(dst[row:row+hw], src[row:row+hw])
				}
			}
		}
		var logDet float64
		for k := range ct {
			xRow := (n*c + first + k) * hw // the transformed channel of x
			sRow := (n*2*ct + k) * hw      // its s_raw in h
			tRow := (n*2*ct + ct + k) * hw // its t in h
			var hArg []float32
			var scale float64
			switch op.kind {
			case rnvpLogDet, rnvpLogDetDH, rnvpLogDetDS:
				hArg, scale = in[0], float64(in[1][k])
			default:
				hArg, scale = in[1], float64(in[2][k])
			}
			var g float64 // the log-determinant gradients' upstream, per image
			if op.kind == rnvpLogDetDH || op.kind == rnvpLogDetDS {
				g = float64(in[2][n])
			}
			var sumS float64
			for p := range hw {
				xi := xRow + p
				if op.mask.keptPixel(p/w, p%w) {
					switch op.kind {
					case rnvpForward, rnvpInverse:
						dst[xi] = in[0][xi]
					case rnvpForwardDX:
						dst[xi] = in[3][xi]
					}
					continue
				}
				th := math.Tanh(float64(hArg[sRow+p]))
				s := scale * th
				switch op.kind {
				case rnvpForward:
					dst[xi] = float32(float64(in[0][xi])*math.Exp(s) + float64(hArg[tRow+p]))
				case rnvpInverse:
					dst[xi] = float32((float64(in[0][xi]) - float64(hArg[tRow+p])) * math.Exp(-s))
				case rnvpForwardDX:
					dst[xi] = float32(float64(in[3][xi]) * math.Exp(s))
				case rnvpForwardDH:
					dy := float64(in[3][xi])
					dst[sRow+p] = float32(dy * float64(in[0][xi]) * math.Exp(s) * scale * (1 - th*th))
					dst[tRow+p] = float32(dy)
				case rnvpForwardDS:
					sumS += float64(in[3][xi]) * float64(in[0][xi]) * math.Exp(s) * th
				case rnvpLogDet:
					logDet += s
				case rnvpLogDetDH:
					dst[sRow+p] = float32(g * scale * (1 - th*th))
				case rnvpLogDetDS:
					sumS += g * th
				}
			}
			if acc != nil {
				acc[k] += sumS
			}
		}
		if op.kind == rnvpLogDet {
			dst[n] = float32(logDet)
		}
	}
}

func (op rnvpOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "RealNVPCoupling(%d,%d,%d,%d,%d,%v,%v)", op.kind, op.b, op.c, op.h, op.w, op.mask.ChannelWise, op.mask.Odd)
}
func (op rnvpOp) Hashcode() uint32 { return hashOf(op) }
func (op rnvpOp) String() string {
	names := [...]string{"CheckerboardMask", "AffineCoupling", "AffineCouplingDX", "AffineCouplingDH", "AffineCouplingDScale",
		"AffineCouplingInverse", "AffineCouplingLogDet", "AffineCouplingLogDetDH", "AffineCouplingLogDetDScale"}
	return fmt.Sprintf("%s(%v)", names[op.kind], op.mask)
}
func (op rnvpOp) DiffWRT(n int) []bool {
	return diffAll(n, op.kind == rnvpCheckerMask || op.kind == rnvpForward || op.kind == rnvpLogDet)
}
func (op rnvpOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	var kinds []int
	var args G.Nodes
	switch op.kind {
	case rnvpCheckerMask:
		return applyOne(op, grad) // x m is linear and its own adjoint
	case rnvpForward:
		kinds, args = []int{rnvpForwardDX, rnvpForwardDH, rnvpForwardDS}, G.Nodes{inputs[0], inputs[1], inputs[2], grad}
	case rnvpLogDet:
		kinds, args = []int{rnvpLogDetDH, rnvpLogDetDS}, G.Nodes{inputs[0], inputs[1], grad}
	default:
		return nil, fmt.Errorf("%v is not differentiable", op)
	}
	var out G.Nodes
	for _, k := range kinds {
		o := op
		o.kind = k
		n, err := G.ApplyOp(o, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
