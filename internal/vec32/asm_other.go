//go:build !amd64

package vec32

// Without the amd64 assembly every kernel is its Go loop; these stubs only
// satisfy the compiler.

const useAsm = false

// useAVX512 is never set off amd64; tests switch it.
var useAVX512 = false

func winogradInputAVX512(dst *float32, stride int, pad *float32, pw, ty, tx int, idx *int32, lo, hi, store int) {
	panic("vec32: no assembly on this architecture")
}

func winogradOutputAVX512(plane, m *float32, w, h, stride, ty, tx int, idx *int32, in, lo, hi int, bias float32) {
	panic("vec32: no assembly on this architecture")
}

func adamAVX2(w, grad, m, v *float32, n int, b1, omb1, b2, omb2, scale, step, sqrtBC2, eps float32) {
	panic("vec32: no assembly on this architecture")
}

func siluAVX2(x, s, y *float32, n int) { panic("vec32: no assembly on this architecture") }

func siluGradAVX2(x, s, dy, dx *float32, n int) {
	panic("vec32: no assembly on this architecture")
}

func siluAVX512(x, s, y *float32, n int) { panic("vec32: no assembly on this architecture") }

func siluGradAVX512(x, s, dy, dx *float32, n int) {
	panic("vec32: no assembly on this architecture")
}

func sumSquaresAVX512(x *float32, n int) (sum, sq float64) {
	panic("vec32: no assembly on this architecture")
}

func sumCenteredAVX512(d, x *float32, n int, m float64) (sd, sdx float64) {
	panic("vec32: no assembly on this architecture")
}

func affineAVX512(x, y *float32, n int, a, b float32) {
	panic("vec32: no assembly on this architecture")
}

func normGradAVX512(d, x, dx *float32, n int, a, bx, m, c float32) {
	panic("vec32: no assembly on this architecture")
}

func winogradOutputGradAVX512(m *float32, stride int, dy *float32, w, h, tx int, idx *int32, lo, hi, store int) {
	panic("vec32: no assembly on this architecture")
}

func sumAVX512(x *float32, n int) (sum float64) { panic("vec32: no assembly on this architecture") }

func im2colStride2AVX512(dst, plane *float32, h, w, ho, wo, iy0 int, idx *int32, lo, hi, valid, store int) {
	panic("vec32: no assembly on this architecture")
}

func sumAVX2(x *float32, n int) (sum float64) { panic("vec32: no assembly on this architecture") }

func sumSquaresAVX2(x *float32, n int) (sum, sq float64) {
	panic("vec32: no assembly on this architecture")
}

func sumCenteredAVX2(d, x *float32, n int, m float64) (sd, sdx float64) {
	panic("vec32: no assembly on this architecture")
}

func affineAVX2(x, y *float32, n int, a, b float32) {
	panic("vec32: no assembly on this architecture")
}

func normGradAVX2(d, x, dx *float32, n int, a, bx, m, c float32) {
	panic("vec32: no assembly on this architecture")
}

func winogradInputAVX2(dst *float32, stride int, pad *float32, pw, ty, tx, ends int, win, tiles *int32) {
	panic("vec32: no assembly on this architecture")
}

func winogradOutputAVX2(plane, m *float32, w, h, stride, tx, ends int, tiles, pix *int32, bias float32) {
	panic("vec32: no assembly on this architecture")
}

func winogradOutputGradAVX2(m *float32, stride int, dy *float32, w, h, tx, ends int, tiles, pix *int32) {
	panic("vec32: no assembly on this architecture")
}

func im2colStride2AVX2(dst, plane *float32, h, w, ho, wo, iy0, off int, from, first, out *int32) {
	panic("vec32: no assembly on this architecture")
}

func leakyAVX2(x, in, out *float32, n int, slope float32) {
	panic("vec32: no assembly on this architecture")
}

func leakyAVX512(x, in, out *float32, n int, slope float32) {
	panic("vec32: no assembly on this architecture")
}

func affineReLUAVX2(x, y *float32, n int, a, b float32) {
	panic("vec32: no assembly on this architecture")
}

func affineReLUAVX512(x, y *float32, n int, a, b float32) {
	panic("vec32: no assembly on this architecture")
}

func reluGradAVX2(y, dy, dx *float32, n int, s float32) {
	panic("vec32: no assembly on this architecture")
}

func reluGradAVX512(y, dy, dx *float32, n int, s float32) {
	panic("vec32: no assembly on this architecture")
}
