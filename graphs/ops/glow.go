package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// glowOp is one of the elementwise pieces of Glow (Kingma & Dhariwal 2018)
// on (B, C, H, W) tensors, with their gradients:
//
//	squeeze:   (B,C,H,W) -> (B,4C,H/2,W/2), channel c*4 + 2i + j <- pixel (2y+i, 2x+j)
//	unsqueeze: its inverse
//	actnorm:   (x, bias (1,C), logs (1,C)) -> (x + bias) exp(logs)
//	coupling:  (x, h) -> [xa, (xb + shift) sigmoid(raw + 2)], h = [shift, raw]
//	           from the network on xa (the first C/2 channels)
//	couplingLogDet: h -> sum log sigmoid(raw + 2) per image, (B, 1)
//	prior:     (z, ml) -> -log N(z; mean, exp(logsd)^2) per image, (B, 1),
//	           ml = [mean, logsd] (B, 2C, H, W)
//
// and, for sampling, the inverses of actnorm and coupling and a draw from
// the prior, mean + exp(logsd) eps.
type glowOp struct {
	pureOp
	kind       int
	b, c, h, w int // the main input's shape
	// init, for actnorm's forward pass in a training graph, is the layer to
	// initialize from its first batch (Glow's data-dependent init).
	init ActNormInit
}

// ActNormInit is a layer initialized from the first batch it sees: Glow's
// data-dependent ActNorm initialization (Kingma & Dhariwal 2018, section
// 3.1), which the ActNorm op runs on its input before applying the layer.
type ActNormInit interface {
	// InitFrom sets the layer's bias and log-scale from the per-channel
	// statistics of x (batch b, c channels of hw pixels each), unless the
	// layer is initialized already.
	InitFrom(x []float32, b, c, hw int)
}

const (
	gSqueeze = iota
	gUnsqueeze
	gActNorm
	gActNormDX // (x, bias, logs, dy) -> dx
	gActNormDB
	gActNormDL
	gActNormInv
	gCoupling
	gCouplingDX // (x, h, dy) -> dx
	gCouplingDH
	gCouplingInv
	gCouplingLogDet
	gCouplingLogDetDH // (h, g) -> dh
	gPrior
	gPriorDZ // (z, ml, g) -> dz
	gPriorDML
	gPriorSample // (ml, eps) -> z
	gPriorStd    // (z, ml) -> eps = (z - mean) exp(-logsd)
)

func newGlowOp(kind int, x *G.Node) glowOp {
	s := x.Shape()
	if len(s) != 4 {
		failf("glow op: want (B,C,H,W), got %v", s)
	}
	return glowOp{kind: kind, b: s[0], c: s[1], h: s[2], w: s[3]}
}

func (op glowOp) apply(args ...*G.Node) *G.Node { return must(G.ApplyOp(op, args...)) }

// Squeeze moves each 2x2 block of pixels of x (B, C, H, W) into channels:
// (B, 4C, H/2, W/2), channel 4c + 2i + j from pixel (2y+i, 2x+j) of channel c.
func Squeeze(x *G.Node) *G.Node { return newGlowOp(gSqueeze, x).apply(x) }

// Unsqueeze is the inverse of Squeeze.
func Unsqueeze(x *G.Node) *G.Node { return newGlowOp(gUnsqueeze, x).apply(x) }

// ActNorm is Glow's per-channel affine map (x + bias) exp(logs) of x
// (B, C, H, W), bias and logs (1, C). A non-nil init is run on x before each
// forward pass (data-dependent initialization; it changes bias and logs in
// place the first time).
func ActNorm(x, bias, logs *G.Node, init ActNormInit) *G.Node {
	op := newGlowOp(gActNorm, x)
	op.init = init
	return op.apply(x, bias, logs)
}

// ActNormInverse undoes ActNorm: y exp(-logs) - bias.
func ActNormInverse(y, bias, logs *G.Node) *G.Node {
	return newGlowOp(gActNormInv, y).apply(y, bias, logs)
}

// GlowCoupling is Glow's affine coupling of x (B, C, H, W) given h, the
// output of the coupling network on the first C/2 channels: those pass
// unchanged, the others become (xb + shift) sigmoid(raw + 2) with
// h = [shift, raw].
func GlowCoupling(x, h *G.Node) *G.Node { return newGlowOp(gCoupling, x).apply(x, h) }

// GlowCouplingInverse undoes GlowCoupling given the same h.
func GlowCouplingInverse(y, h *G.Node) *G.Node { return newGlowOp(gCouplingInv, y).apply(y, h) }

// GlowCouplingLogDet is the coupling's log-determinant per image, (B, 1):
// sum log sigmoid(raw + 2).
func GlowCouplingLogDet(h *G.Node) *G.Node { return newGlowOp(gCouplingLogDet, h).apply(h) }

// GlowPrior is -log N(z; mean, exp(logsd)^2) per image, (B, 1), of z
// (B, C, H, W) under the split's learned prior ml = [mean, logsd]
// (B, 2C, H, W).
func GlowPrior(z, ml *G.Node) *G.Node { return newGlowOp(gPrior, z).apply(z, ml) }

// GlowPriorStd standardizes z under the prior ml: (z - mean) exp(-logsd).
func GlowPriorStd(z, ml *G.Node) *G.Node { return newGlowOp(gPriorStd, z).apply(z, ml) }

// GlowPriorSample is a draw from the prior ml given standard normal eps
// (B, C, H, W): mean + exp(logsd) eps.
func GlowPriorSample(ml, eps *G.Node) *G.Node {
	return newGlowOp(gPriorSample, eps).apply(ml, eps)
}

func (op glowOp) Arity() int {
	switch op.kind {
	case gSqueeze, gUnsqueeze, gCouplingLogDet:
		return 1
	case gCoupling, gCouplingInv, gCouplingLogDetDH, gPrior, gPriorSample, gPriorStd:
		return 2
	case gActNorm, gActNormInv, gCouplingDX, gCouplingDH, gPriorDZ, gPriorDML:
		return 3
	}
	return 4
}

func (op glowOp) Type() hm.Type {
	switch op.kind {
	case gSqueeze, gUnsqueeze:
		return fnType(4, 4)
	case gActNorm, gActNormInv:
		return fnType(4, 2, 2, 4)
	case gActNormDX:
		return fnType(4, 2, 2, 4, 4)
	case gActNormDB, gActNormDL:
		return fnType(4, 2, 2, 4, 2)
	case gCoupling, gCouplingInv, gPriorSample, gPriorStd:
		return fnType(4, 4, 4)
	case gCouplingDX, gCouplingDH:
		return fnType(4, 4, 4, 4)
	case gCouplingLogDet:
		return fnType(4, 2)
	case gCouplingLogDetDH:
		return fnType(4, 2, 4)
	case gPrior:
		return fnType(4, 4, 2)
	}
	return fnType(4, 4, 2, 4) // prior gradients
}

func (op glowOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	b, c, h, w := op.b, op.c, op.h, op.w
	switch op.kind {
	case gSqueeze:
		return tensor.Shape{b, 4 * c, h / 2, w / 2}, nil
	case gUnsqueeze:
		return tensor.Shape{b, c / 4, 2 * h, 2 * w}, nil
	case gActNormDB, gActNormDL:
		return tensor.Shape{1, c}, nil
	case gCouplingLogDet, gPrior:
		return tensor.Shape{b, 1}, nil
	case gPriorDML:
		return tensor.Shape{b, 2 * c, h, w}, nil
	}
	return tensor.Shape{b, c, h, w}, nil
}

func (op glowOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "glow", vals, false)
	if err != nil {
		return nil, err
	}
	b, c, hw := op.b, op.c, op.h*op.w
	switch op.kind {
	case gSqueeze, gUnsqueeze:
		op.squeeze(in[0], dst)
	case gActNorm:
		if op.init != nil {
			op.init.InitFrom(in[0], b, c, hw)
		}
		op.actNormRows(in, dst)
	case gActNormInv, gActNormDX:
		op.actNormRows(in, dst)
	case gActNormDB, gActNormDL:
		op.actNormParamGrad(in, dst)
	case gCoupling, gCouplingInv, gCouplingDX, gCouplingDH:
		op.coupling(in, dst)
	case gCouplingLogDet, gCouplingLogDetDH:
		half := c / 2
		for i := range b {
			var sum float64
			for k := range half * hw {
				raw := float64(in[0][(i*c+half)*hw+k]) + 2
				if op.kind == gCouplingLogDet {
					sum += logSigmoid(raw)
				} else {
					// d log sigmoid(r) / dr = 1 - sigmoid(r)
					dst[(i*c+half)*hw+k] = in[1][i] * float32(1-sigmoid64(raw))
				}
			}
			if op.kind == gCouplingLogDet {
				dst[i] = float32(sum)
			}
		}
	case gPrior, gPriorDZ, gPriorDML:
		op.prior(in, dst)
	case gPriorStd:
		z, ml := in[0], in[1]
		for i := range b {
			for k := range c * hw {
				mean, logsd := ml[i*2*c*hw+k], ml[i*2*c*hw+c*hw+k]
				dst[i*c*hw+k] = (z[i*c*hw+k] - mean) * float32(math.Exp(-float64(logsd)))
			}
		}
	case gPriorSample:
		ml, eps := in[0], in[1]
		for i := range b {
			for k := range c * hw {
				mean, logsd := ml[i*2*c*hw+k], ml[i*2*c*hw+c*hw+k]
				dst[i*c*hw+k] = mean + float32(math.Exp(float64(logsd)))*eps[i*c*hw+k]
			}
		}
	}
	return out, nil
}

// actNormRows computes ActNorm's forward pass, its inverse or its input
// gradient, one (image, channel) row of pixels at a time, the rows split
// over two goroutines (each row's arithmetic is the same either way).
func (op glowOp) actNormRows(in [][]float32, dst []float32) {
	c, hw := op.c, op.h*op.w
	bias, logs := in[1], in[2]
	parallelFor(op.b*c, max(1, elementwiseMin/hw), func(lo, hi int) {
		for r := lo; r < hi; r++ { // r = image*c + channel
			ch, row := r%c, r*hw
			out := dst[row : row+hw]
			switch op.kind {
			case gActNorm:
				s, bb := float32(math.Exp(float64(logs[ch]))), bias[ch]
				for j, v := range in[0][row : row+hw] {
					out[j] = (v + bb) * s
				}
			case gActNormInv:
				s, bb := float32(math.Exp(-float64(logs[ch]))), bias[ch]
				for j, v := range in[0][row : row+hw] {
					out[j] = v*s - bb
				}
			case gActNormDX:
				s := math.Exp(float64(logs[ch]))
				for j, d := range in[3][row : row+hw] {
					out[j] = float32(float64(d) * s)
				}
			}
		}
	})
}

// actNormParamGrad computes ActNorm's bias or log-scale gradient (1, C):
// each channel's sum over the images in order, the channels split over two
// goroutines.
func (op glowOp) actNormParamGrad(in [][]float32, dst []float32) {
	b, c, hw := op.b, op.c, op.h*op.w
	x, bias, logs, dy := in[0], in[1], in[2], in[3]
	parallelFor(c, max(1, elementwiseMin/(b*hw)), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			s := math.Exp(float64(logs[ch]))
			for i := range b {
				row := (i*c + ch) * hw
				var sum float64
				if op.kind == gActNormDB {
					for _, d := range dy[row : row+hw] {
						sum += float64(d) * s
					}
				} else {
					for j, d := range dy[row : row+hw] {
						sum += float64(d) * float64(x[row+j]+bias[ch]) * s
					}
				}
				dst[ch] += float32(sum)
			}
		}
	})
}

// squeeze moves each 2x2 block of pixels into four channels (or back).
func (op glowOp) squeeze(src, dst []float32) {
	b, c, h, w := op.b, op.c, op.h, op.w
	if op.kind == gUnsqueeze {
		c, h, w = c/4, 2*h, 2*w // the big tensor's shape
	}
	h2, w2 := h/2, w/2
	for n := range b {
		for ch := range c {
			for y := range h {
				for x := range w {
					big := ((n*c+ch)*h+y)*w + x
					small := ((n*4*c+ch*4+(y%2)*2+x%2)*h2+y/2)*w2 + x/2
					if op.kind == gSqueeze {
						dst[small] = src[big]
					} else {
						dst[big] = src[small]
					}
				}
			}
		}
	}
}

// coupling computes the affine coupling, its inverse or a gradient, from
// in = (x, h[, dy]).
func (op glowOp) coupling(in [][]float32, dst []float32) {
	b, c, hw := op.b, op.c, op.h*op.w
	half := c / 2
	x, h := in[0], in[1]
	for i := range b {
		base := i * c * hw
		for k := range half * hw {
			a := base + k            // kept half
			j := base + half*hw + k  // transformed half
			shift := float64(h[a])   // h's first half
			raw := float64(h[j]) + 2 // h's second half
			s := sigmoid64(raw)
			switch op.kind {
			case gCoupling:
				dst[a] = x[a]
				dst[j] = float32((float64(x[j]) + shift) * s)
			case gCouplingInv:
				dst[a] = x[a]
				dst[j] = float32(float64(x[j])/s - shift)
			case gCouplingDX:
				dy := in[2]
				dst[a] = dy[a]
				dst[j] = float32(float64(dy[j]) * s)
			case gCouplingDH:
				dy := float64(in[2][j])
				dst[a] = float32(dy * s)                                     // d/dshift
				dst[j] = float32(dy * (float64(x[j]) + shift) * s * (1 - s)) // d/draw
			}
		}
	}
}

// prior computes -log N(z; mean, exp(logsd)^2) summed per image, or a gradient.
func (op glowOp) prior(in [][]float32, dst []float32) {
	b, c, hw := op.b, op.c, op.h*op.w
	z, ml := in[0], in[1]
	half := 0.5 * math.Log(2*math.Pi)
	for i := range b {
		var sum float64
		for k := range c * hw {
			zi := i*c*hw + k
			mi, li := i*2*c*hw+k, i*2*c*hw+c*hw+k
			logsd := float64(ml[li])
			u := (float64(z[zi]) - float64(ml[mi])) * math.Exp(-logsd)
			switch op.kind {
			case gPrior:
				sum += half + logsd + 0.5*u*u
			case gPriorDZ:
				dst[zi] = in[2][i] * float32(u*math.Exp(-logsd))
			case gPriorDML:
				g := float64(in[2][i])
				dst[mi] = float32(-g * u * math.Exp(-logsd))
				dst[li] = float32(g * (1 - u*u))
			}
		}
		if op.kind == gPrior {
			dst[i] = float32(sum)
		}
	}
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logSigmoid is log(sigmoid(x)) without overflow for large negative x.
func logSigmoid(x float64) float64 {
	if x < -30 {
		return x
	}
	return -math.Log1p(math.Exp(-x))
}

func (op glowOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Glow(%d,%d,%d,%d,%d,%p)", op.kind, op.b, op.c, op.h, op.w, op.init)
}
func (op glowOp) Hashcode() uint32 { return hashOf(op) }
func (op glowOp) String() string   { return fmt.Sprintf("Glow%d", op.kind) }
func (op glowOp) DiffWRT(n int) []bool {
	switch op.kind {
	case gSqueeze, gUnsqueeze, gActNorm, gCoupling, gCouplingLogDet, gPrior:
		return diffAll(n, true)
	}
	return diffAll(n, false)
}
func (op glowOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	with := func(kind int, args ...*G.Node) (*G.Node, error) {
		o := op
		o.kind, o.init = kind, nil
		return G.ApplyOp(o, args...)
	}
	var kinds []int
	var args G.Nodes
	switch op.kind {
	case gSqueeze, gUnsqueeze:
		back := newGlowOp(gUnsqueeze, output)
		if op.kind == gUnsqueeze {
			back.kind = gSqueeze
		}
		n, err := G.ApplyOp(back, grad)
		return G.Nodes{n}, err
	case gActNorm:
		// Ordered after the forward pass through its output, which the
		// data-dependent initialization may have changed the parameters for.
		kinds, args = []int{gActNormDX, gActNormDB, gActNormDL}, G.Nodes{inputs[0], inputs[1], inputs[2], grad}
	case gCoupling:
		kinds, args = []int{gCouplingDX, gCouplingDH}, G.Nodes{inputs[0], inputs[1], grad}
	case gCouplingLogDet:
		kinds, args = []int{gCouplingLogDetDH}, G.Nodes{inputs[0], grad}
	case gPrior:
		kinds, args = []int{gPriorDZ, gPriorDML}, G.Nodes{inputs[0], inputs[1], grad}
	default:
		return nil, fmt.Errorf("%v is not differentiable", op)
	}
	var out G.Nodes
	for _, k := range kinds {
		n, err := with(k, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
