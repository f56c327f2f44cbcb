package ops

import (
	"fmt"
	"sync"

	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/internal/vec32"
)

// The geometry of a convolution and the unrolling of its images into the
// columns its matrix products multiply (im2col), with the adjoint that adds
// them back (col2im) and the pool of scratch buffers they fill.

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

// inShape, filterShape and outShape are the shapes of the convolution's
// input (B, C, H, W), filters (O, C, K, K) and output (B, O, Ho, Wo).
func (g convGeom) inShape() tensor.Shape     { return tensor.Shape{g.B, g.C, g.H, g.W} }
func (g convGeom) filterShape() tensor.Shape { return tensor.Shape{g.O, g.C, g.K, g.K} }
func (g convGeom) outShape() tensor.Shape    { return tensor.Shape{g.B, g.O, g.Ho, g.Wo} }

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
