package vec32

// Tile transforms of Winograd's F(2x2, 3x3) (Lavin & Gray 2016) over one
// image plane, the parts of a 3x3 convolution that are not matrix
// products. The AVX-512 versions work on a whole row of tiles per vector
// (up to 15 tiles, so planes up to 30 pixels wide), the AVX2 ones on 8
// tiles of a row per vector (planes of any width), and both do the Go
// versions' additions in the same order, so all give bit-identical
// results.

// WinogradInput writes V = B^T d B of every 4x4 input block of a plane:
// dst[xi*stride + y*tx + x] for the 16 entries xi of the tile at tile row y,
// column x (ty rows, tx columns of tiles). pad is the plane with one zero
// row and column before it and enough zeros after: (2ty+2) rows of pw =
// 2tx+2 values.
func WinogradInput(dst []float32, stride int, pad []float32, ty, tx int) {
	if ty <= 0 || tx <= 0 {
		return
	}
	pw := 2*tx + 2
	pad = pad[:(2*ty+2)*pw]
	_ = dst[15*stride+ty*tx-1]
	if useAVX512 && tx <= winogradMaxTiles {
		lo, hi := split16(pw)
		winogradInputAVX512(&dst[0], stride, &pad[0], pw, ty, tx, &winogradIndex[0][0], lo, hi, mask(tx))
		return
	}
	if useAsm {
		x0 := max(0, tx-8)
		c := tx - x0
		winogradInputAVX2(&dst[0], stride, &pad[0], pw, ty, tx, tileEnds(ty, tx), firstLanes(2*c), firstLanes(c))
		return
	}
	winogradInputGo(dst, stride, pad, ty, tx)
}

// WinogradOutput writes Y = A^T M A + bias of every tile into a plane of h
// rows of w values, cropping the tiles at odd edges; m[xi*stride + y*tx + x]
// is entry xi of M of the tile at row y, column x (ty = (h+1)/2, tx =
// (w+1)/2).
func WinogradOutput(plane []float32, w, h int, m []float32, stride int, bias float32) {
	ty, tx := (h+1)/2, (w+1)/2
	if ty <= 0 || tx <= 0 {
		return
	}
	plane = plane[:w*h]
	_ = m[15*stride+ty*tx-1]
	if useAVX512 && tx <= winogradMaxTiles {
		lo, hi := split16(w)
		winogradOutputAVX512(&plane[0], &m[0], w, h, stride, ty, tx, &winogradIndex[0][0], mask(tx), lo, hi, bias)
		return
	}
	if useAsm {
		// Tile rows from the bottom whose rightmost chunk, stored whole,
		// would write past the plane.
		x0 := max(0, tx-8)
		ends := 0
		for y := ty - 1; y >= 0 && min(2*y+1, h-1)*w+2*x0+16 > w*h; y-- {
			ends++
		}
		winogradOutputAVX2(&plane[0], &m[0], w, h, stride, tx, 2*ends, firstLanes(tx-x0), firstLanes(w-2*x0), bias)
		return
	}
	winogradOutputGo(plane, w, h, m, stride, bias)
}

// WinogradOutputGrad is the adjoint of WinogradOutput without the bias:
// from the gradient dy of a plane of h rows of w values it writes
// dM = A dy A^T of every tile, m[xi*stride + y*tx + x] as WinogradOutput
// reads it (the cropped pixels of odd edges count as zeros).
func WinogradOutputGrad(m []float32, stride int, dy []float32, w, h int) {
	ty, tx := (h+1)/2, (w+1)/2
	if ty <= 0 || tx <= 0 {
		return
	}
	dy = dy[:w*h]
	_ = m[15*stride+ty*tx-1]
	if useAVX512 && tx <= winogradMaxTiles {
		lo, hi := split16(w)
		winogradOutputGradAVX512(&m[0], stride, &dy[0], w, h, tx, &winogradIndex[0][0], lo, hi, mask(tx))
		return
	}
	if useAsm {
		x0 := max(0, tx-8)
		winogradOutputGradAVX2(&m[0], stride, &dy[0], w, h, tx, 2*tileEnds(ty, tx), firstLanes(tx-x0), firstLanes(w-2*x0))
		return
	}
	winogradOutputGradGo(m, stride, dy, w, h)
}

// winogradMaxTiles is the most tiles per row the AVX-512 kernels handle:
// a row of the padded plane (2tx+2 values) must fit in two vectors, with
// one lane to spare for the shifted even and odd columns.
const winogradMaxTiles = 15

// winogradIndex holds the kernels' two-table permutations (VPERMT2PS index
// vectors: 0-15 pick from the first vector, 16-31 from the second): the
// even, odd, even+2 and odd+2 columns of a 32-value row, and the
// interleaving of even and odd output columns (low and high halves).
var winogradIndex = func() (idx [6][16]int32) {
	for i := range int32(16) {
		idx[0][i] = 2 * i
		idx[1][i] = 2*i + 1
		idx[2][i] = (2*i + 2) % 32
		idx[3][i] = (2*i + 3) % 32
		if i%2 == 0 {
			idx[4][i], idx[5][i] = i/2, 8+i/2
		} else {
			idx[4][i], idx[5][i] = 16+i/2, 24+i/2
		}
	}
	return idx
}()

// tileEnds is how many tile rows, from the bottom, the AVX2 kernels that
// write the 16 matrices must store with masks: those whose rightmost chunk
// (the 8 tiles from max(0, tx-8)), stored whole, would pass the last tile.
func tileEnds(ty, tx int) int {
	x0, ends := max(0, tx-8), 0
	for y := ty - 1; y >= 0 && y*tx+x0+8 > ty*tx; y-- {
		ends++
	}
	return ends
}

// laneTable holds the lane masks the AVX2 kernels load for VMASKMOVPS
// (which takes the lanes whose mask is negative): the 32 values from
// firstLanes(n) select lanes j < n, those from fromLane(a) lanes j >= a,
// for n and a clamped to [0, 32].
var laneTable = func() (t [96]int32) {
	for i := 32; i < 64; i++ {
		t[i] = -1
	}
	return t
}()

func firstLanes(n int) *int32 { return &laneTable[64-min(max(n, 0), 32)] }

func fromLane(a int) *int32 { return &laneTable[32-min(max(a, 0), 32)] }

// split16 is the lane masks of n values held in two 16-lane vectors.
func split16(n int) (lo, hi int) { return mask(min(n, 16)), mask(max(0, n-16)) }

func mask(n int) int { return 1<<n - 1 }

func winogradInputGo(dst []float32, stride int, pad []float32, ty, tx int) {
	pw := 2*tx + 2
	for y := 0; y < ty; y++ {
		r0 := pad[(2*y)*pw:]
		r1 := pad[(2*y+1)*pw:]
		r2 := pad[(2*y+2)*pw:]
		r3 := pad[(2*y+3)*pw:]
		for xx := 0; xx < tx; xx++ {
			o := 2 * xx
			// B^T d, by columns s = 0..3.
			t00, t01, t02, t03 := r0[o]-r2[o], r0[o+1]-r2[o+1], r0[o+2]-r2[o+2], r0[o+3]-r2[o+3]
			t10, t11, t12, t13 := r1[o]+r2[o], r1[o+1]+r2[o+1], r1[o+2]+r2[o+2], r1[o+3]+r2[o+3]
			t20, t21, t22, t23 := r2[o]-r1[o], r2[o+1]-r1[o+1], r2[o+2]-r1[o+2], r2[o+3]-r1[o+3]
			t30, t31, t32, t33 := r1[o]-r3[o], r1[o+1]-r3[o+1], r1[o+2]-r3[o+2], r1[o+3]-r3[o+3]
			k := y*tx + xx
			// (B^T d) B, row by row: xi = r*4 + s.
			dst[0*stride+k], dst[1*stride+k], dst[2*stride+k], dst[3*stride+k] = t00-t02, t01+t02, t02-t01, t01-t03
			dst[4*stride+k], dst[5*stride+k], dst[6*stride+k], dst[7*stride+k] = t10-t12, t11+t12, t12-t11, t11-t13
			dst[8*stride+k], dst[9*stride+k], dst[10*stride+k], dst[11*stride+k] = t20-t22, t21+t22, t22-t21, t21-t23
			dst[12*stride+k], dst[13*stride+k], dst[14*stride+k], dst[15*stride+k] = t30-t32, t31+t32, t32-t31, t31-t33
		}
	}
}

func winogradOutputGo(plane []float32, w, h int, m []float32, stride int, bias float32) {
	ty, tx := (h+1)/2, (w+1)/2
	for y := 0; y < ty; y++ {
		for xx := 0; xx < tx; xx++ {
			k := y*tx + xx
			var mm [16]float32
			for xi := range mm {
				mm[xi] = m[xi*stride+k]
			}
			// A^T mm (2x4): rows 0+1+2 and 1-2-3.
			a0 := mm[0] + mm[4] + mm[8]
			a1 := mm[1] + mm[5] + mm[9]
			a2 := mm[2] + mm[6] + mm[10]
			a3 := mm[3] + mm[7] + mm[11]
			b0 := mm[4] - mm[8] - mm[12]
			b1 := mm[5] - mm[9] - mm[13]
			b2 := mm[6] - mm[10] - mm[14]
			b3 := mm[7] - mm[11] - mm[15]
			oy, ox := 2*y, 2*xx
			row := plane[oy*w:]
			row[ox] = a0 + a1 + a2 + bias
			if ox+1 < w {
				row[ox+1] = a1 - a2 - a3 + bias
			}
			if oy+1 < h {
				row = plane[(oy+1)*w:]
				row[ox] = b0 + b1 + b2 + bias
				if ox+1 < w {
					row[ox+1] = b1 - b2 - b3 + bias
				}
			}
		}
	}
}

func winogradOutputGradGo(m []float32, stride int, dy []float32, w, h int) {
	ty, tx := (h+1)/2, (w+1)/2
	at := func(y, x int) float32 {
		if y < h && x < w {
			return dy[y*w+x]
		}
		return 0
	}
	for y := 0; y < ty; y++ {
		for xx := 0; xx < tx; xx++ {
			p, q := at(2*y, 2*xx), at(2*y, 2*xx+1)
			r, s := at(2*y+1, 2*xx), at(2*y+1, 2*xx+1)
			// A dy (4x2), then each row (u, v) times A^T: (u, u+v, u-v, -v).
			u := [4]float32{p, p + r, p - r, -r}
			v := [4]float32{q, q + s, q - s, -s}
			k := y*tx + xx
			for i := range 4 {
				m[(4*i)*stride+k] = u[i]
				m[(4*i+1)*stride+k] = u[i] + v[i]
				m[(4*i+2)*stride+k] = u[i] - v[i]
				m[(4*i+3)*stride+k] = -v[i]
			}
		}
	}
}
