package vec32

// The AVX-512 Winograd transforms: winogradInputGo, winogradOutputGo and
// winogradOutputGradGo for tx <= winogradMaxTiles; idx points at
// winogradIndex, and the int arguments after it are lane masks.

//go:noescape
func winogradInputAVX512(dst *float32, stride int, pad *float32, pw, ty, tx int, idx *int32, lo, hi, store int)

//go:noescape
func winogradOutputAVX512(plane, m *float32, w, h, stride, ty, tx int, idx *int32, in, lo, hi int, bias float32)

//go:noescape
func winogradOutputGradAVX512(m *float32, stride int, dy *float32, w, h, tx int, idx *int32, lo, hi, store int)
