package ops

import (
	"gonum.org/v1/gonum/blas"

	"github.com/genmodel/genmodel/internal/vec32"
)

// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016) for the
// forward pass of 3x3, stride-1, padding-1 convolutions, which are most of
// UNet-S's arithmetic (and, through the flipped-kernel adjoint, of its
// input gradients). Each 2x2 block of outputs comes from a 4x4 block of
// inputs in 16 multiplications per channel pair instead of 36: the inputs
// are transformed to V = B^T d B, the filters to U = G g G^T, and then
// M = U V for each of the 16 positions of the 4x4 transform is one matrix
// product (O x C times C x tiles) before Y = A^T M A. The transforms only
// add, subtract and halve, so float32 results stay within ~1e-6 relative
// of the direct convolution's.

// winogradMinChannels keeps convolutions with few input channels (the first
// layer's single one) on the direct path, where the transforms would
// dominate. Few output channels (the last layer's single one) are fine: the
// output transform is then small, and the 16 products with one row waste
// less than im2col's single-row product does.
var winogradMinChannels = 8

// winogradTiles is about how many 2x2 output tiles one set of 16 products
// covers.
const winogradTiles = 512

// winogradSkew offsets the transform's 16 matrices from one another (64 bytes).
const winogradSkew = 16

// useWinograd reports whether the forward pass of g goes through F(2x2, 3x3).
func (g convGeom) useWinograd() bool {
	return g.K == 3 && g.S == 1 && g.P == 1 && g.sameSize() && g.C >= winogradMinChannels
}

// winogradFilters returns U (16, O, C): U[xi][o][c] = (G w[o][c] G^T)[xi],
// in a scratch buffer the caller returns with putScratch.
func (g convGeom) winogradFilters(w []float32) []float32 {
	u := getScratch(16 * g.O * g.C)
	parallelFor(g.O, max(1, elementwiseMin/(16*g.C)), func(lo, hi int) { g.winogradFilterRows(w, u, lo, hi) })
	return u
}

// winogradFilterRows writes the transformed filters of outputs lo..hi-1.
func (g convGeom) winogradFilterRows(w, u []float32, lo, hi int) {
	oc := g.O * g.C
	for o := lo; o < hi; o++ {
		for c := 0; c < g.C; c++ {
			k := w[(o*g.C+c)*9:][:9]
			// t = G k (4x3), then t G^T (4x4).
			var t [4][3]float32
			for j := 0; j < 3; j++ {
				a, b, d := k[j], k[3+j], k[6+j]
				t[0][j] = a
				t[1][j] = 0.5 * (a + b + d)
				t[2][j] = 0.5 * (a - b + d)
				t[3][j] = d
			}
			for i := 0; i < 4; i++ {
				a, b, d := t[i][0], t[i][1], t[i][2]
				base := i * 4
				u[(base+0)*oc+o*g.C+c] = a
				u[(base+1)*oc+o*g.C+c] = 0.5 * (a + b + d)
				u[(base+2)*oc+o*g.C+c] = 0.5 * (a - b + d)
				u[(base+3)*oc+o*g.C+c] = d
			}
		}
	}
}

// winogradPad returns a zeroed buffer for one plane padded to whole tiles
// (a border of one and enough beyond), which winogradInputs copies each
// plane into: only the interior is ever written, so the border stays zero
// from plane to plane and no tile needs bounds tests. The caller returns it
// with putScratch.
func (g convGeom) winogradPad() []float32 {
	ty, tx := (g.H+1)/2, (g.W+1)/2
	pad := getScratch((2*ty + 2) * (2*tx + 2))
	clear(pad)
	return pad
}

// winogradInputs writes V[xi][c][tile] = (B^T d B)[xi] of the 4x4 input
// block of every tile of images b0..b0+n-1 into v, the 16 matrices
// C*tiles+winogradSkew apart.
func (g convGeom) winogradInputs(x, v, pad []float32, b0, n int) {
	ty, tx := (g.H+1)/2, (g.W+1)/2
	perImage, pw, hw := ty*tx, 2*tx+2, g.H*g.W
	tiles := n * perImage
	for j := 0; j < n; j++ {
		img := x[(b0+j)*g.C*hw:]
		for c := 0; c < g.C; c++ {
			plane := img[c*hw : (c+1)*hw]
			for iy := 0; iy < g.H; iy++ {
				copy(pad[(iy+1)*pw+1:], plane[iy*g.W:(iy+1)*g.W])
			}
			vec32.WinogradInput(v[c*tiles+j*perImage:], g.C*tiles+winogradSkew, pad, ty, tx)
		}
	}
}

// winogradWork is one call's buffers for images taken per at a time: V and
// M (C and O rows of per*perImage tiles for each of their 16 matrices) and
// the padded plane of the input transform. The 16 matrices start
// winogradSkew floats apart beyond their sizes: with sizes of whole 4 KB
// pages, the 16 streams a tile writes would share the same L1 sets and
// evict one another.
type winogradWork struct {
	perImage, per int
	v, m, pad     []float32
}

// newWinogradWork takes the buffers for a call over images images from the
// scratch pool; release returns them.
func (g convGeom) newWinogradWork(images int) winogradWork {
	perImage := ((g.H + 1) / 2) * ((g.W + 1) / 2)
	per := max(1, min(images, winogradTiles/perImage))
	return winogradWork{perImage: perImage, per: per,
		v:   getScratch(16 * (g.C*per*perImage + winogradSkew)),
		m:   getScratch(16 * (g.O*per*perImage + winogradSkew)),
		pad: g.winogradPad()}
}

func (w winogradWork) release() {
	putScratch(w.v)
	putScratch(w.m)
	putScratch(w.pad)
}

// winogradImages is the forward pass of images lo..hi-1 into dst, with u
// from winogradFilters and bias (O values) or nil.
func (g convGeom) winogradImages(x, u, bias, dst []float32, lo, hi int, gemm gemmFunc) {
	work := g.newWinogradWork(hi - lo)
	defer work.release()
	v, m, per, perImage := work.v, work.m, work.per, work.perImage
	hw := g.H * g.W
	for b0 := lo; b0 < hi; b0 += per {
		n := min(per, hi-b0)
		tiles := n * perImage
		g.winogradInputs(x, v, work.pad, b0, n)
		for xi := 0; xi < 16; xi++ {
			gemm(blas.NoTrans, blas.NoTrans, g.O, tiles, g.C, 1, u[xi*g.O*g.C:], g.C, v[xi*(g.C*tiles+winogradSkew):], tiles, 0, m[xi*(g.O*tiles+winogradSkew):], tiles)
		}
		// Y = A^T M A per tile, cropped at odd edges, plus the bias.
		for j := 0; j < n; j++ {
			out := dst[(b0+j)*g.O*hw:]
			for o := 0; o < g.O; o++ {
				var bv float32
				if bias != nil {
					bv = bias[o]
				}
				vec32.WinogradOutput(out[o*hw:(o+1)*hw], g.W, g.H, m[o*tiles+j*perImage:], g.O*tiles+winogradSkew, bv)
			}
		}
	}
}

// winogradWeightGrad adds the filter gradient of images lo..hi-1 into dw
// (O, C, 3, 3) through the same transforms: the forward pass is
// Y = A^T [U . V] A per tile with U = G w G^T, so with dM = A dy A^T (the
// output transform's adjoint) the gradient of each of the 16 matrices U_xi
// is dM_xi V_xi^T, summed over tiles (16 products of O x tiles by tiles x C,
// 4 multiplications per output pixel and channel pair instead of 9), and
// dw = G^T dU G.
func (g convGeom) winogradWeightGrad(x, dy, dw []float32, lo, hi int, gemm gemmFunc) {
	work := g.newWinogradWork(hi - lo)
	defer work.release()
	v, m, per, perImage := work.v, work.m, work.per, work.perImage
	oc := g.O * g.C
	du := getScratch(16 * oc)
	defer putScratch(du)
	clear(du)
	hw := g.H * g.W
	for b0 := lo; b0 < hi; b0 += per {
		n := min(per, hi-b0)
		tiles := n * perImage
		vStride, mStride := g.C*tiles+winogradSkew, g.O*tiles+winogradSkew
		g.winogradInputs(x, v, work.pad, b0, n)
		for j := 0; j < n; j++ {
			grad := dy[(b0+j)*g.O*hw:]
			for o := 0; o < g.O; o++ {
				vec32.WinogradOutputGrad(m[o*tiles+j*perImage:], mStride, grad[o*hw:(o+1)*hw], g.W, g.H)
			}
		}
		for xi := 0; xi < 16; xi++ {
			gemm(blas.NoTrans, blas.Trans, g.O, g.C, tiles, 1, m[xi*mStride:], tiles, v[xi*vStride:], tiles, 1, du[xi*oc:], g.C)
		}
	}
	// dw = G^T dU G per channel pair, G's rows (1,0,0), (.5,.5,.5),
	// (.5,-.5,.5), (0,0,1): first down the 4 rows of dU, then along them.
	for oci := 0; oci < oc; oci++ {
		var t [3][4]float32
		for j := 0; j < 4; j++ {
			d0, d1, d2, d3 := du[(0+j)*oc+oci], du[(4+j)*oc+oci], du[(8+j)*oc+oci], du[(12+j)*oc+oci]
			t[0][j] = d0 + 0.5*(d1+d2)
			t[1][j] = 0.5 * (d1 - d2)
			t[2][j] = 0.5*(d1+d2) + d3
		}
		k := dw[oci*9:][:9]
		for a := 0; a < 3; a++ {
			d0, d1, d2, d3 := t[a][0], t[a][1], t[a][2], t[a][3]
			k[a*3+0] += d0 + 0.5*(d1+d2)
			k[a*3+1] += 0.5 * (d1 - d2)
			k[a*3+2] += 0.5*(d1+d2) + d3
		}
	}
}
