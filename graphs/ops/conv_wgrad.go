package ops

import "gonum.org/v1/gonum/blas"

// The filter gradient of a same-size, stride-1 convolution without im2col.
//
// dW[o][c][ky][kx] = sum over images and pixels of dy[o][y][x] *
// xp[c][y+ky][x+kx], where xp is x zero-padded by P. Laid out with each
// padded image's rows Wp = W+2P apart, shift s = (ky, kx) of xp is xp's
// plane read from offset ky*Wp + kx: a contiguous window. If dy is laid out
// in the same padded coordinates, with zeros in its Wp-W extra columns and
// 2P extra rows, then for each shift
//
//	dW_s^T (C x O) = Xwin_s (C x K) dyT (K x O),   K = images * padded plane
//
// is one matrix product whose A rows are windows of xp read where they lie
// (each channel's padded planes of the images one after another), and whose
// B is dy transposed once into (pixel, o) rows. im2col's nine shifted copies
// of the input and the transposed packing of them are gone; the padded
// coordinates add (H+2P)(W+2P)/(HW) - 1 of arithmetic (15% at 28x28), and
// the junk positions multiply by dy's zeros.

// wgradColumns is about how many padded pixels one product covers.
const wgradColumns = 2048

// weightGradSame adds the filter gradient of images lo..hi-1 into dw.
func (g convGeom) weightGradSame(x, dy, dw []float32, lo, hi int, gemm gemmFunc) {
	kk := g.K * g.K
	wp, hp := g.W+2*g.P, g.H+2*g.P
	plane := hp * wp
	per := max(1, min(hi-lo, wgradColumns/plane))
	// The last image's windows reach (K-1)(Wp+1) values past its plane.
	slack := (g.K - 1) * (wp + 1)
	rowLen := per*plane + slack
	xp := getScratch(g.C * rowLen)
	defer putScratch(xp)
	dyT := getScratch(per * plane * g.O)
	defer putScratch(dyT)
	prod := getScratch(g.C * g.O)
	defer putScratch(prod)
	hw, inSize, outSize := g.H*g.W, g.C*g.H*g.W, g.O*g.H*g.W
	for b0 := lo; b0 < hi; b0 += per {
		n := min(per, hi-b0)
		k := n * plane
		clear(xp)
		for j := range n {
			for c := range g.C {
				src := x[(b0+j)*inSize+c*hw:][:hw]
				dst := xp[c*rowLen+j*plane:]
				for y := range g.H {
					copy(dst[(y+g.P)*wp+g.P:][:g.W], src[y*g.W:(y+1)*g.W])
				}
			}
		}
		// dyT is written row by row (each pixel's O values are contiguous);
		// the O planes it reads from each advance one value at a time, and
		// their cache lines stay in L1 for the 16 pixels they hold.
		clear(dyT[:k*g.O])
		for j := range n {
			img := dy[(b0+j)*outSize:][:outSize]
			for y := range g.H {
				for xx := range g.W {
					row := dyT[(j*plane+y*wp+xx)*g.O:][:g.O]
					p := y*g.W + xx
					for o := range row {
						row[o] = img[o*hw+p]
					}
				}
			}
		}
		for s := range kk {
			off := (s/g.K)*wp + s%g.K
			gemm(blas.NoTrans, blas.NoTrans, g.C, g.O, k, 1, xp[off:], rowLen, dyT, g.O, 0, prod, g.O)
			for c := range g.C {
				for o, v := range prod[c*g.O : (c+1)*g.O] {
					dw[(o*g.C+c)*kk+s] += v
				}
			}
		}
	}
}
