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

// The AVX2 transforms, for any tx: ends is how many tile rows from the
// bottom store their rightmost chunk with masks (twice that for the output
// transforms), and the pointers are into laneTable: the masks of the
// rightmost chunk's loads (win, pix: two vectors) and tiles.

//go:noescape
func winogradInputAVX2(dst *float32, stride int, pad *float32, pw, ty, tx, ends int, win, tiles *int32)

//go:noescape
func winogradOutputAVX2(plane, m *float32, w, h, stride, tx, ends int, tiles, pix *int32, bias float32)

//go:noescape
func winogradOutputGradAVX2(m *float32, stride int, dy *float32, w, h, tx, ends int, tiles, pix *int32)
