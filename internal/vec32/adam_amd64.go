package vec32

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2 kernels; a variable so tests can compare both.
var useAsm = cpu.X86.HasAVX2

// useAVX512 selects the AVX-512 kernels (the Winograd transforms).
var useAVX512 = cpu.X86.HasAVX512F

// winogradInputAVX512 and winogradOutputAVX512 are winogradInputGo and
// winogradOutputGo for tx <= winogradMaxTiles; idx points at winogradIndex,
// and the int arguments after it are lane masks.
//
//go:noescape
func winogradInputAVX512(dst *float32, stride int, pad *float32, pw, ty, tx int, idx *int32, lo, hi, store int)

//go:noescape
func winogradOutputGradAVX512(m *float32, stride int, dy *float32, w, h, tx int, idx *int32, lo, hi, store int)

//go:noescape
func winogradOutputAVX512(plane, m *float32, w, h, stride, ty, tx int, idx *int32, in, lo, hi int, bias float32)

// adamAVX2 is adamGo over n (a multiple of 8) elements.
//
//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, b1, omb1, b2, omb2, scale, step, sqrtBC2, eps float32)

// The normalization kernels of norm.go over n (a positive multiple of 16)
// elements.

//go:noescape
func sumAVX512(x *float32, n int) (sum float64)

//go:noescape
func sumSquaresAVX512(x *float32, n int) (sum, sq float64)

//go:noescape
func sumCenteredAVX512(d, x *float32, n int, m float64) (sd, sdx float64)

//go:noescape
func affineAVX512(x, y *float32, n int, a, b float32)

//go:noescape
func normGradAVX512(d, x, dx *float32, n int, a, bx, m, c float32)
