package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/internal/vec32"
)

// The ops of a gated PixelCNN (van den Oord et al. 2016): Shift, which
// moves images down and right with zeros coming in (the causal masks as
// shifts instead of zeroed weights), and Gate, tanh(a) * sigmoid(b) of the
// two channel halves in one pass.

// Tap is one shift of Shift: pixel (i, j) of the output reads input pixel
// (i-Down, j-Right), zero where that lies outside the image.
type Tap struct{ Down, Right int }

// shiftOp maps x (B, C, H, W) to (B, C*S, Ho, Wo) for S taps, channel
// c*S+s being x's channel c shifted by tap s. With the taps of a causal
// kernel row in PyTorch's order, a 1x1 convolution of the result with
// weights (O, C*S) is the (1, S) convolution of x with weights (O, C, 1, S),
// padded on the left: the masked convolution without the masked taps'
// work. One tap into a taller output pads the top of an image (Ho > H) or
// crops its bottom (Ho < H). grad selects the adjoint,
// (B, C*S, Ho, Wo) -> (B, C, H, W), which sums each tap's plane shifted
// back.
type shiftOp struct {
	pureOp
	b, c, h, w int // x's shape
	oh, ow     int // the output's height and width
	taps       []Tap
	grad       bool
}

// Shift returns x (B, C, H, W) shifted by each tap in turn, stacked along
// the channels tap-fastest: (B, C*len(taps), H, W).
func Shift(x *G.Node, taps ...Tap) *G.Node {
	s := x.Shape()
	if len(s) != 4 {
		failf("shift: want (B,C,H,W), got %v", s)
	}
	return ShiftTo(x, s[2], s[3], taps...)
}

// ShiftTo is Shift into an output of h x w pixels, whose pixel (i, j) reads
// input pixel (i-Down, j-Right) of each tap, zero outside the input.
func ShiftTo(x *G.Node, h, w int, taps ...Tap) *G.Node {
	s := x.Shape()
	if len(s) != 4 || len(taps) == 0 || h <= 0 || w <= 0 {
		failf("shift: want (B,C,H,W), taps and a size, got %v, %d taps and %dx%d", s, len(taps), h, w)
	}
	return must(G.ApplyOp(shiftOp{b: s[0], c: s[1], h: s[2], w: s[3], oh: h, ow: w, taps: append([]Tap(nil), taps...)}, x))
}

func (op shiftOp) Arity() int    { return 1 }
func (op shiftOp) Type() hm.Type { return uniformType(4, 1) }
func (op shiftOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{op.b, op.c, op.h, op.w}, nil
	}
	return tensor.Shape{op.b, op.c * len(op.taps), op.oh, op.ow}, nil
}

func (op shiftOp) Do(vals ...G.Value) (G.Value, error) {
	// Zeroed: the shifted-in borders stay zero, and the adjoint adds.
	in, out, dst, err := inputsAndOutput(op, "shift", vals, false)
	if err != nil {
		return nil, err
	}
	src := in[0]
	hw, ohw, s := op.h*op.w, op.oh*op.ow, len(op.taps)
	parallelFor(op.b*op.c, max(1, elementwiseMin/(ohw*s)), func(lo, hi int) {
		for bc := lo; bc < hi; bc++ {
			for t, tap := range op.taps {
				shifted := (bc*s + t) * ohw // the plane of tap t in the stacked tensor
				plane := bc * hw            // its plane in x
				if op.grad {
					shiftPlane(src[shifted:shifted+ohw], op.oh, op.ow, dst[plane:plane+hw], op.h, op.w, -tap.Down, -tap.Right, true)
				} else {
					shiftPlane(src[plane:plane+hw], op.h, op.w, dst[shifted:shifted+ohw], op.oh, op.ow, tap.Down, tap.Right, false)
				}
			}
		}
	})
	return out, nil
}

// shiftPlane writes (or with add adds) src, an sh x sw plane, shifted down
// by dy and right by dx into dst, a dh x dw plane: dst(i, j) = src(i-dy,
// j-dx). dst's pixels with no source are left as they are.
func shiftPlane(src []float32, sh, sw int, dst []float32, dh, dw, dy, dx int, add bool) {
	j0, j1 := max(0, dx), min(dw, sw+dx) // dst's columns with a source
	if j1 <= j0 {
		return
	}
	n := j1 - j0
	for i := max(0, dy); i < min(dh, sh+dy); i++ {
		s := src[(i-dy)*sw+j0-dx:][:n]
		d := dst[i*dw+j0:][:n]
		if !add {
			copy(d, s)
			continue
		}
		for j, v := range s {
			d[j] += v
		}
	}
}

func (op shiftOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Shift(%d,%d,%d,%d,%d,%d,%v,%v)", op.b, op.c, op.h, op.w, op.oh, op.ow, op.taps, op.grad)
}
func (op shiftOp) Hashcode() uint32 { return hashOf(op) }
func (op shiftOp) String() string {
	if op.grad {
		return fmt.Sprintf("ShiftAdjoint%v", op.taps)
	}
	return fmt.Sprintf("Shift%v", op.taps)
}
func (op shiftOp) DiffWRT(n int) []bool { return diffAll(n, !op.grad) }
func (op shiftOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := op
	back.grad = true
	return applyOne(back, grad)
}

// gateOp is the gated activation of a PixelCNN layer: x (B, 2C, H, W) ->
// tanh(a) * sigmoid(g), (B, C, H, W), where a is x's first C channels and g
// its last C. Built from SliceChannels, Tanh, Sigmoid and HadamardProd it is
// four passes and four outputs, and as many backward. When the graph
// differentiates it, the forward pass keeps tanh(a) and sigmoid(g) for the
// backward op (x, dy) -> dx, whose halves are dy sigmoid(g) (1 - tanh(a)^2)
// and dy tanh(a) sigmoid(g) (1 - sigmoid(g)): no exponentials there.
type gateOp struct {
	pureOp
	b, c, h, w int // the output's shape
	grad       bool
	saved      *gateSaved
}

// gateSaved is tanh(a) and sigmoid(g) of a gate's forward pass.
type gateSaved struct {
	t, s     []float32
	backward bool // whether a backward op exists (SymDiff was called)
}

// Gate returns tanh(x[:, :C]) * sigmoid(x[:, C:]) of x (B, 2C, H, W).
func Gate(x *G.Node) *G.Node {
	s := x.Shape()
	if len(s) != 4 || s[1]%2 != 0 {
		failf("gate: want (B, 2C, H, W), got %v", s)
	}
	return must(G.ApplyOp(gateOp{b: s[0], c: s[1] / 2, h: s[2], w: s[3], saved: &gateSaved{}}, x))
}

func (op gateOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op gateOp) Type() hm.Type { return uniformType(4, op.Arity()) }
func (op gateOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{op.b, 2 * op.c, op.h, op.w}, nil
	}
	return tensor.Shape{op.b, op.c, op.h, op.w}, nil
}

func (op gateOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "gate", vals, true)
	if err != nil {
		return nil, err
	}
	x := in[0]
	n := op.c * op.h * op.w // one image's half
	sv := op.saved
	if op.grad && len(sv.t) != op.b*n {
		return nil, fmt.Errorf("gate: backward pass before the forward pass")
	}
	if !op.grad && sv.backward && len(sv.t) != op.b*n {
		sv.t, sv.s = make([]float32, op.b*n), make([]float32, op.b*n)
	}
	parallelFor(op.b, max(1, elementwiseMin/(2*n)), func(lo, hi int) {
		if op.grad {
			for i := lo; i < hi; i++ {
				dy := in[1][i*n:][:n]
				ts, ss := sv.t[i*n:][:n], sv.s[i*n:][:n]
				da, dg := dst[2*i*n:][:n], dst[(2*i+1)*n:][:n]
				for j := range dy {
					t, s := ts[j], ss[j]
					da[j] = dy[j] * s * (1 - t*t)
					dg[j] = dy[j] * t * s * (1 - s)
				}
			}
			return
		}
		// The sigmoids come from vec32.SiLU's vector kernel, tanh as
		// 2 sigmoid(2a) - 1 (within 1e-7 absolute).
		scratch := getScratch(3 * n)
		defer putScratch(scratch)
		tmp, ts, ss := scratch[:n], scratch[n:2*n], scratch[2*n:]
		for i := lo; i < hi; i++ {
			a, g := x[2*i*n:][:n], x[(2*i+1)*n:][:n]
			y := dst[i*n:][:n]
			if sv.backward {
				ts, ss = sv.t[i*n:][:n], sv.s[i*n:][:n]
			}
			vec32.Affine(a, tmp, 2, 0)
			vec32.SiLU(tmp, ts, tmp)
			vec32.SiLU(g, ss, tmp)
			for j := range y {
				t := 2*ts[j] - 1
				ts[j] = t
				y[j] = t * ss[j]
			}
		}
	})
	return out, nil
}

func (op gateOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Gate(%d,%d,%d,%d,%v,%p)", op.b, op.c, op.h, op.w, op.grad, op.saved)
}
func (op gateOp) Hashcode() uint32 { return hashOf(op) }
func (op gateOp) String() string {
	if op.grad {
		return "GateGrad"
	}
	return "Gate"
}
func (op gateOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = !op.grad
	return d
}
func (op gateOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	op.saved.backward = true
	back := op
	back.grad = true
	return applyOne(back, inputs[0], grad)
}
