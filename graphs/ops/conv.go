package ops

import (
	"fmt"
	"hash"
	"sync"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/vec32"
)

// convOp is a 2-D convolution of (B, C, H, W) images with (O, C, K, K)
// filters, stride S and zero padding P, writing (B, O, Ho, Wo) directly.
//
// Gorgonia's Conv2d unrolls the whole batch into one (B*Ho*Wo, C*K*K)
// matrix, multiplies, then transposes the (B, Ho, Wo, O) result into NCHW
// with a generic iterator, allocating each intermediate anew; its im2col
// alone was a third of a DCGAN step. Here each image is unrolled into a
// (C*K*K, Ho*Wo) buffer and multiplied from the left by the filters seen as
// an (O, C*K*K) matrix, which lands in NCHW order with no transpose.
type convOp struct {
	pureOp
	g    convGeom
	grad int // 0: forward; 1: dx, 2: dW, 3: db (each from x, W, dy)
	// noInputGrad skips dL/dx when x is a graph input (see linearOp).
	noInputGrad bool
}

// convGeom is the shape arithmetic of one convolution.
type convGeom struct {
	B, C, H, W int
	O, K, S, P int
	Ho, Wo     int
	bias       bool
}

func newConvGeom(x, w tensor.Shape, stride, pad int, bias bool) (convGeom, error) {
	if len(x) != 4 || len(w) != 4 || x[1] != w[1] || w[2] != w[3] {
		return convGeom{}, fmt.Errorf("conv: input %v and filters %v do not fit", x, w)
	}
	g := convGeom{B: x[0], C: x[1], H: x[2], W: x[3], O: w[0], K: w[2], S: stride, P: pad, bias: bias}
	g.Ho = (g.H+2*pad-g.K)/stride + 1
	g.Wo = (g.W+2*pad-g.K)/stride + 1
	if g.Ho <= 0 || g.Wo <= 0 {
		return convGeom{}, fmt.Errorf("conv: %dx%d input too small for kernel %d", g.H, g.W, g.K)
	}
	return g, nil
}

// Conv2d is PyTorch's F.conv2d with square kernels and one stride and
// padding for both axes: x (B, C, H, W) convolved with w (O, C, K, K), plus
// an optional bias viewed as (1, O) (nil: none), as one op (convOp).
// noInputGrad declares that nothing needs the gradient with respect to x (a
// graph input), whose computation is then skipped.
func Conv2d(x, w, bias *G.Node, stride, pad int, noInputGrad bool) *G.Node {
	g, err := newConvGeom(x.Shape(), w.Shape(), stride, pad, bias != nil)
	if err != nil {
		graphs.Fail(err)
	}
	op := convOp{g: g, noInputGrad: noInputGrad}
	if bias == nil {
		return must(G.ApplyOp(op, x, w))
	}
	return must(G.ApplyOp(op, x, w, bias))
}

// validRange returns the output columns [lo, hi) whose input column
// ox*S - P + kx falls inside the image, so the inner loops run without
// bounds tests (and, for stride 1, as one contiguous copy).
func (g convGeom) validRange(kx int) (lo, hi int) {
	off := kx - g.P // input column of output column 0
	lo = 0
	if off < 0 {
		lo = (-off + g.S - 1) / g.S
	}
	hi = (g.W - 1 - off) / g.S
	if g.W-1-off < 0 {
		hi = -1
	}
	hi = min(hi+1, g.Wo)
	return min(lo, hi), hi
}

// im2col unrolls one image x (C, H, W) into col (C*K*K, Ho*Wo), whose rows
// start ld floats apart (ld > Ho*Wo when several images sit side by side).
func (g convGeom) im2col(x, col []float32, ld int) {
	hw := g.Ho * g.Wo
	if g.sameSize() {
		g.im2colSame(x, col, ld)
		return
	}
	for c := 0; c < g.C; c++ {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := col[((c*g.K+ky)*g.K+kx)*ld:][:hw]
				if g.S == 2 {
					vec32.Im2colStride2(row, plane, g.H, g.W, g.Ho, g.Wo, ky, kx, g.P)
					continue
				}
				lo, hi := g.validRange(kx)
				off := kx - g.P
				for oy := 0; oy < g.Ho; oy++ {
					iy := oy*g.S - g.P + ky
					out := row[oy*g.Wo : (oy+1)*g.Wo]
					if iy < 0 || iy >= g.H {
						clear(out)
						continue
					}
					src := plane[iy*g.W : (iy+1)*g.W]
					// The few columns off the left and right edges are
					// zeroed directly (clear's call costs more than they do).
					for ox := range out[:lo] {
						out[ox] = 0
					}
					for ox := hi; ox < len(out); ox++ {
						out[ox] = 0
					}
					if g.S == 1 {
						copy(out[lo:hi], src[lo+off:hi+off])
						continue
					}
					for ox, v := 0, out[lo:hi]; ox < len(v); ox++ {
						v[ox] = src[(lo+ox)*g.S+off]
					}
				}
			}
		}
	}
}

// sameSize reports a stride-1 convolution whose output has the input's size
// (2P = K-1, as every 3x3 convolution with padding 1).
func (g convGeom) sameSize() bool { return g.S == 1 && g.Ho == g.H && g.Wo == g.W }

// im2colSame is im2col for sameSize geometries. Row (c, ky, kx) of col is the
// plane shifted by (ky-P, kx-P) rows and columns, which in row-major order
// is one contiguous copy shifted by (ky-P)*W + kx-P; what the shift wraps
// from one image row into the next, and the rows shifted in from outside,
// are then set to zero. One copy per filter tap replaces one per image row:
// on 28x28 images the row copies were mostly call overhead.
func (g convGeom) im2colSame(x, col []float32, ld int) {
	hw := g.H * g.W
	for c := 0; c < g.C; c++ {
		plane := x[c*hw : (c+1)*hw]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := col[((c*g.K+ky)*g.K+kx)*ld:][:hw]
				shift := (ky-g.P)*g.W + kx - g.P
				// Outputs whose source is inside the plane (none when the
				// shift exceeds a tiny image).
				lo, hi := min(hw, max(0, -shift)), max(0, min(hw, hw-shift))
				hi = max(lo, hi)
				clear(row[:lo])
				if lo < hi {
					copy(row[lo:hi], plane[lo+shift:hi+shift])
				}
				clear(row[hi:])
				// Columns whose source column falls off the left or right
				// edge: a few elements per image row, written directly
				// (clear's call costs more than they do).
				first, last := 0, g.W // the columns that stay
				if dx := kx - g.P; dx < 0 {
					first = min(g.W, -dx)
				} else {
					last = max(0, g.W-dx)
				}
				for r := 0; r < hw; r += g.W {
					for j := r; j < r+first; j++ {
						row[j] = 0
					}
					for j := r + last; j < r+g.W; j++ {
						row[j] = 0
					}
				}
			}
		}
	}
}

// col2im adds col (C*K*K, Ho*Wo), rows ld apart, back into dx (C, H, W):
// the adjoint of im2col.
func (g convGeom) col2im(col []float32, ld int, dx []float32) {
	hw := g.Ho * g.Wo
	for c := 0; c < g.C; c++ {
		plane := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := col[((c*g.K+ky)*g.K+kx)*ld:][:hw]
				lo, hi := g.validRange(kx)
				off := kx - g.P
				for oy := 0; oy < g.Ho; oy++ {
					iy := oy*g.S - g.P + ky
					if iy < 0 || iy >= g.H {
						continue
					}
					dst := plane[iy*g.W : (iy+1)*g.W]
					in := row[oy*g.Wo : (oy+1)*g.Wo]
					if g.S == 1 {
						d := dst[lo+off : hi+off]
						for i, v := range in[lo:hi] {
							d[i] += v
						}
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ox*g.S+off] += in[ox]
					}
				}
			}
		}
	}
}

func (op convOp) Arity() int {
	if op.grad == 0 && op.g.bias {
		return 3
	}
	if op.grad == 0 {
		return 2
	}
	return 3
}

func (op convOp) Type() hm.Type {
	t4 := G.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	t2 := G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	switch op.grad {
	case 0:
		if op.g.bias {
			return hm.NewFnType(t4, t4, t2, t4)
		}
		return hm.NewFnType(t4, t4, t4)
	case 3:
		return hm.NewFnType(t4, t4, t4, t2)
	}
	return hm.NewFnType(t4, t4, t4, t4)
}

func (op convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	g := op.g
	switch op.grad {
	case 1:
		return tensor.Shape{g.B, g.C, g.H, g.W}, nil
	case 2:
		return tensor.Shape{g.O, g.C, g.K, g.K}, nil
	case 3:
		return tensor.Shape{1, g.O}, nil
	}
	return tensor.Shape{g.B, g.O, g.Ho, g.Wo}, nil
}

func (op convOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := float32Inputs("conv", vals)
	if err != nil {
		return nil, err
	}
	// The forward pass and a same-size input gradient (a forward pass too)
	// write every output; the others accumulate into zeros.
	var out *tensor.Dense
	var dst []float32
	if op.grad == 0 || (op.grad == 1 && op.g.sameSize()) {
		out, dst = overwrittenOutputOf(op)
	} else {
		out, dst = outputOf(op)
	}
	if op.grad == 3 {
		op.biasGrad(in[2], dst)
		return out, nil
	}
	op.compute(in, dst)
	return out, nil
}

// compute runs the forward pass or one gradient (not the bias's) into dst,
// which must start zeroed.
func (op convOp) compute(in [][]float32, dst []float32) {
	if op.grad == 1 && op.g.sameSize() {
		op.inputGradSame(in[1], in[2], dst)
		return
	}
	// The images are split over two workers: one image's matrix multiply is
	// too small for the BLAS to parallelize, and im2col is serial work. Each
	// worker owns a fixed, contiguous range of images, and the count does not
	// depend on the machine, so the weight gradient's summation order, and
	// with it every result, is the same everywhere.
	g := op.g
	workers := min(convWorkers, g.B)
	// Each worker multiplies on its own goroutine; a single image gets the
	// BLAS's own parallelism instead.
	gemm := graphs.SgemmSerial
	if workers == 1 {
		gemm = graphs.Sgemm
	}
	partial := make([][]float32, workers) // per-worker dW sums (grad 2)
	var winograd []float32                // the transformed filters, when the forward pass uses F(2x2, 3x3)
	if op.grad == 0 && g.useWinograd() {
		winograd = g.winogradFilters(in[1])
		defer putScratch(winograd)
	}
	var wg sync.WaitGroup
	for wk := 0; wk < workers; wk++ {
		lo, hi := wk*g.B/workers, (wk+1)*g.B/workers
		if op.grad == 2 {
			partial[wk] = dst
			if wk > 0 {
				partial[wk] = make([]float32, len(dst))
			}
		}
		wg.Add(1)
		go func(wk, lo, hi int) {
			defer wg.Done()
			if winograd != nil {
				var bias []float32
				if g.bias {
					bias = in[2]
				}
				g.winogradImages(in[0], winograd, bias, dst, lo, hi, gemm)
				return
			}
			if op.grad == 2 && g.useWinograd() {
				g.winogradWeightGrad(in[0], in[2], partial[wk], lo, hi, gemm)
				return
			}
			// weightGradSame's products are C rows tall: too few for the
			// kernel's 12-row tiles with a single input channel, where
			// im2col's (O, C*K*K) product is the better shape.
			if op.grad == 2 && g.sameSize() && g.C >= winogradMinChannels {
				g.weightGradSame(in[0], in[2], partial[wk], lo, hi, gemm)
				return
			}
			op.images(in, dst, partial[wk], lo, hi, gemm)
		}(wk, lo, hi)
	}
	wg.Wait()
	for _, p := range partial[min(1, len(partial)):] {
		for i, v := range p {
			dst[i] += v
		}
	}
}

// inputGradSame computes dL/dx of a sameSize convolution as the forward
// convolution of dy with the filters flipped in space and transposed
// (C <-> O): for stride 1 the adjoint of a convolution is the convolution
// with the flipped kernel, padded by K-1-P = P. The matrix product is the
// same size as W^T dy's, but it is followed by im2col's copies instead of
// col2im's scattered additions.
func (op convOp) inputGradSame(w, dy, dx []float32) {
	g := op.g
	kk := g.K * g.K
	flipped := getScratch(len(w))
	defer putScratch(flipped)
	for o := 0; o < g.O; o++ {
		for c := 0; c < g.C; c++ {
			src := w[(o*g.C+c)*kk:][:kk]
			dst := flipped[(c*g.O+o)*kk:][:kk]
			for i, v := range src {
				dst[kk-1-i] = v
			}
		}
	}
	adj := convGeom{B: g.B, C: g.O, H: g.Ho, W: g.Wo, O: g.C, K: g.K, S: 1, P: g.K - 1 - g.P, Ho: g.H, Wo: g.W}
	convOp{g: adj}.compute([][]float32{dy, flipped}, dx)
}

// convWorkers is how many goroutines share a convolution's images.
const convWorkers = 2

// images does the forward pass (grad 0), dx (grad 1) or dW (grad 2, summed
// into dw) for images lo..hi-1. A small image's matrix product (Ho*Wo = 49
// columns at 7x7) keeps the BLAS kernel busy only a third of the time, so
// several images are unrolled side by side into one (C*K*K, n*Ho*Wo) matrix
// and multiplied at once; outputs and output gradients pass through mat,
// their (O, n*Ho*Wo) arrangement.
func (op convOp) images(in [][]float32, dst, dw []float32, lo, hi int, gemm gemmFunc) {
	g := op.g
	x, w := in[0], in[1]
	ckk, hw := g.C*g.K*g.K, g.Ho*g.Wo
	inSize, outSize := g.C*g.H*g.W, g.O*hw
	per := max(1, min(hi-lo, convColumns/hw))
	// A 1x1 convolution's unrolled columns are the image itself: one image
	// at a time, it is multiplied where it lies.
	direct := g.K == 1 && g.S == 1 && g.P == 0 && op.grad != 1
	if hw >= convColumns/4 || direct {
		per = 1 // big enough alone: no gathering and scattering
	}
	var col []float32
	if !direct {
		col = getScratch(ckk * per * hw)
		defer putScratch(col)
	}
	var mat []float32
	if per > 1 {
		mat = getScratch(g.O * per * hw)
		defer putScratch(mat)
	}
	for b0 := lo; b0 < hi; b0 += per {
		n := min(per, hi-b0)
		ld := n * hw
		switch {
		case direct:
			col = x[b0*inSize : (b0+1)*inSize]
		case op.grad != 1:
			for j := range n {
				g.im2col(x[(b0+j)*inSize:], col[j*hw:], ld)
			}
		}
		switch {
		case n == 1 && op.grad == 0:
			mat = dst[b0*outSize : (b0+1)*outSize] // one image's (O, hw) output is mat's layout
		case n == 1:
			mat = in[2][b0*outSize : (b0+1)*outSize]
		case op.grad != 0: // gather dy of the n images into mat
			dy := in[2]
			for j := range n {
				for o := range g.O {
					copy(mat[o*ld+j*hw:][:hw], dy[(b0+j)*outSize+o*hw:][:hw])
				}
			}
		}
		switch op.grad {
		case 0: // y = W col (+ b)
			gemm(blas.NoTrans, blas.NoTrans, g.O, ld, ckk, 1, w, ckk, col, ld, 0, mat, ld)
			for j := range n {
				for o := range g.O {
					y := dst[(b0+j)*outSize+o*hw:][:hw]
					if n > 1 {
						copy(y, mat[o*ld+j*hw:][:hw])
					}
					if g.bias {
						vec32.Affine(y, y, 1, in[2][o]) // y*1 + v is exactly y + v
					}
				}
			}
		case 1: // dx = col2im(W^T dy)
			gemm(blas.Trans, blas.NoTrans, ckk, ld, g.O, 1, w, ckk, mat, ld, 0, col, ld)
			for j := range n {
				g.col2im(col[j*hw:], ld, dst[(b0+j)*inSize:])
			}
		case 2: // dW += dy col^T
			gemm(blas.NoTrans, blas.Trans, g.O, ckk, ld, 1, mat, ld, col, ld, 1, dw, ckk)
		}
	}
}

// convColumns is about how many output pixels one matrix product covers.
const convColumns = 2048

// biasGrad sums dy over batch and space into db.
func (op convOp) biasGrad(dy, db []float32) {
	g := op.g
	hw := g.Ho * g.Wo
	parallelFor(g.O, max(1, elementwiseMin/(g.B*hw)), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			var s float64
			for b := 0; b < g.B; b++ {
				s += vec32.Sum(dy[(b*g.O+o)*hw : (b*g.O+o+1)*hw])
			}
			db[o] += float32(s)
		}
	})
}

func (op convOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Conv%+v/%d/%v", op.g, op.grad, op.noInputGrad)
}
func (op convOp) Hashcode() uint32 { return hashOf(op) }
func (op convOp) String() string {
	return fmt.Sprintf("Conv(%d->%d,k%d,s%d,p%d)/%d", op.g.C, op.g.O, op.g.K, op.g.S, op.g.P, op.grad)
}
func (op convOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = op.grad == 0 && (i > 0 || !op.noInputGrad)
	}
	return d
}
func (op convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	out := G.Nodes{nil}
	for which := 1; which <= len(inputs); which++ {
		if which == 1 && op.noInputGrad {
			continue
		}
		n, err := G.ApplyOp(convOp{g: op.g, grad: which}, x, w, grad)
		if err != nil {
			return nil, err
		}
		if which == 1 {
			out[0] = n
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// scratch holds im2col buffers between calls: a training step runs dozens of
// convolutions, each needing megabytes of unrolled columns that live only
// for the call.
var scratch sync.Pool

func getScratch(n int) []float32 {
	if p, ok := scratch.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

func putScratch(b []float32) { scratch.Put(&b) }
