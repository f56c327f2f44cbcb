package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/internal/vec32"
)

// actNormReLUOp is ActNorm followed by ReLU in one pass, the
// pre-activation of a RealNVP coupling's ResNet: y = max(0, (x + bias)
// exp(logs)) per channel of x (B, C, H, W), bias and logs (1, C). Its
// gradients need only y: with s = exp(logs),
//
//	dx = dy s [y > 0],  dbias = s sum dy [y > 0],  dlogs = sum dy y
//
// (y is (x + bias) s where it is positive and 0 elsewhere). Apart, the
// Glow ActNorm op and ReLU cost two passes forward and four backward, the
// log-scale's gradient in float64 one element at a time: a sixth of a
// multi-scale RealNVP step.
type actNormReLUOp struct {
	pureOp
	kind       int
	b, c, h, w int
	init       ActNormInit // forward pass of a training graph: Glow's data-dependent initialization
}

const (
	anrForward = iota // (x, bias, logs) -> y
	anrDX             // (y, logs, dy) -> dx
	anrDBias          // (y, logs, dy) -> dbias (1, C)
	anrDLogs          // (y, dy) -> dlogs (1, C)
)

// ActNormReLU is max(0, (x + bias) exp(logs)) of x (B, C, H, W) with bias
// and logs (1, C). A non-nil init runs on x before each forward pass, as
// ActNorm's.
func ActNormReLU(x, bias, logs *G.Node, init ActNormInit) *G.Node {
	s := x.Shape()
	if len(s) != 4 {
		failf("actnorm relu: want (B,C,H,W), got %v", s)
	}
	for _, p := range []*G.Node{bias, logs} {
		if ps := p.Shape(); len(ps) != 2 || ps[0] != 1 || ps[1] != s[1] {
			failf("actnorm relu: parameter %v does not fit %v", ps, s)
		}
	}
	return must(G.ApplyOp(actNormReLUOp{kind: anrForward, b: s[0], c: s[1], h: s[2], w: s[3], init: init}, x, bias, logs))
}

func (op actNormReLUOp) Arity() int {
	if op.kind == anrDLogs {
		return 2
	}
	return 3
}

func (op actNormReLUOp) Type() hm.Type {
	switch op.kind {
	case anrForward:
		return fnType(4, 2, 2, 4)
	case anrDX:
		return fnType(4, 2, 4, 4)
	case anrDBias:
		return fnType(4, 2, 4, 2)
	}
	return fnType(4, 4, 2)
}

func (op actNormReLUOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.kind == anrDBias || op.kind == anrDLogs {
		return tensor.Shape{1, op.c}, nil
	}
	return tensor.Shape{op.b, op.c, op.h, op.w}, nil
}

func (op actNormReLUOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, op.String(), vals, op.kind == anrForward || op.kind == anrDX)
	if err != nil {
		return nil, err
	}
	b, c, hw := op.b, op.c, op.h*op.w
	switch op.kind {
	case anrForward, anrDX:
		if op.kind == anrForward && op.init != nil {
			op.init.InitFrom(in[0], b, c, hw)
		}
		logs := in[2]
		if op.kind == anrDX {
			logs = in[1]
		}
		parallelFor(b*c, max(1, elementwiseMin/hw), func(lo, hi int) {
			for r := lo; r < hi; r++ { // r = image*c + channel
				ch, row := r%c, r*hw
				s := float32(math.Exp(float64(logs[ch])))
				y := dst[row : row+hw]
				if op.kind == anrForward {
					vec32.AffineReLU(in[0][row:row+hw], y, s, in[1][ch]*s)
					continue
				}
				vec32.ReLUGrad(in[0][row:row+hw], in[2][row:row+hw], y, s)
			}
		})
	case anrDBias, anrDLogs:
		// Each channel's sum over the images in order; channels split
		// over two goroutines.
		parallelFor(c, max(1, elementwiseMin/(b*hw)), func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				var sum float64
				for i := range b {
					row := (i*c + ch) * hw
					if op.kind == anrDLogs {
						_, sdy := vec32.SumCentered(in[1][row:row+hw], in[0][row:row+hw], 0)
						sum += sdy
						continue
					}
					dy := in[2][row : row+hw]
					for j, v := range in[0][row : row+hw] {
						sum += float64(math.Float32frombits(math.Float32bits(dy[j]) & vec32.ActiveMask(v)))
					}
				}
				if op.kind == anrDBias {
					sum *= math.Exp(float64(in[1][ch]))
				}
				dst[ch] = float32(sum)
			}
		})
	}
	return out, nil
}

func (op actNormReLUOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ActNormReLU(%d,%d,%d,%d,%d,%p)", op.kind, op.b, op.c, op.h, op.w, op.init)
}
func (op actNormReLUOp) Hashcode() uint32 { return hashOf(op) }
func (op actNormReLUOp) String() string {
	return [...]string{"ActNormReLU", "ActNormReLUDX", "ActNormReLUDBias", "ActNormReLUDLogs"}[op.kind]
}
func (op actNormReLUOp) DiffWRT(n int) []bool { return diffAll(n, op.kind == anrForward) }
func (op actNormReLUOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.kind != anrForward {
		return nil, fmt.Errorf("%v is not differentiable", op)
	}
	with := func(kind int, args ...*G.Node) (*G.Node, error) {
		o := op
		o.kind, o.init = kind, nil
		return G.ApplyOp(o, args...)
	}
	// After the forward pass through its output, so after the
	// initialization that may have changed logs.
	dx, err := with(anrDX, output, inputs[2], grad)
	if err != nil {
		return nil, err
	}
	// dbias from y and dy, not from dx: the tape machine may add x's other
	// gradients into dx in place.
	dBias, err := with(anrDBias, output, inputs[2], grad)
	if err != nil {
		return nil, err
	}
	dLogs, err := with(anrDLogs, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dBias, dLogs}, nil
}
