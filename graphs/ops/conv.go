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

// What convOp and convTransposeOp share: both map x to y with filters W
// and an optional bias b, (x, W[, b]) -> y, and have three backward ops
// (x, W, dy) -> dx, dW or db, selected by grad 1, 2 or 3.

// convArity is the op's input count.
func convArity(grad int, bias bool) int {
	if grad == 0 && !bias {
		return 2
	}
	return 3
}

// convType is the op's type: images and filters have 4 dimensions, b and
// db 2.
func convType(grad int, bias bool) hm.Type {
	switch {
	case grad == 0 && bias:
		return fnType(4, 4, 2, 4)
	case grad == 0:
		return fnType(4, 4, 4)
	case grad == 3:
		return fnType(4, 4, 4, 2)
	}
	return fnType(4, 4, 4, 4)
}

// convShape is the op's output shape, from the shapes of x, W and y: y's,
// or that of dx, dW or db (1, y's channels).
func convShape(grad int, x, w, y tensor.Shape) tensor.Shape {
	switch grad {
	case 1:
		return x
	case 2:
		return w
	case 3:
		return tensor.Shape{1, y[1]}
	}
	return y
}

// convDiffWRT is the forward op's DiffWRT: every input, but x with
// noInputGrad.
func convDiffWRT(n, grad int, noInputGrad bool) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = grad == 0 && (i > 0 || !noInputGrad)
	}
	return d
}

// convSymDiff applies the backward op back(which) of each input (but x
// with noInputGrad) to (x, W, dy), as SymDiff returns them.
func convSymDiff(inputs G.Nodes, grad *G.Node, noInputGrad bool, back func(which int) G.Op) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	out := G.Nodes{nil}
	for which := 1; which <= len(inputs); which++ {
		if which == 1 && noInputGrad {
			continue
		}
		n, err := G.ApplyOp(back(which), x, w, grad)
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

func (op convOp) Arity() int    { return convArity(op.grad, op.g.bias) }
func (op convOp) Type() hm.Type { return convType(op.grad, op.g.bias) }
func (op convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return convShape(op.grad, op.g.inShape(), op.g.filterShape(), op.g.outShape()), nil
}

func (op convOp) Do(vals ...G.Value) (G.Value, error) {
	// The forward pass and a same-size input gradient (a forward pass too)
	// write every output; the others accumulate into zeros.
	in, out, dst, err := inputsAndOutput(op, "conv", vals, op.grad == 0 || (op.grad == 1 && op.g.sameSize()))
	if err != nil {
		return nil, err
	}
	if op.grad == 3 {
		op.biasGrad(in[2], dst)
		return out, nil
	}
	macs.Add(op.g.macs())
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
func (op convOp) DiffWRT(n int) []bool { return convDiffWRT(n, op.grad, op.noInputGrad) }
func (op convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return convSymDiff(inputs, grad, op.noInputGrad, func(which int) G.Op { return convOp{g: op.g, grad: which} })
}
