package vec32

// im2colStride2AVX512 is Im2colStride2's loop for w <= 32, wo <= 16: iy0 is
// ky - p, idx the permutation (2*ox + kx - p, mod 32), and the int arguments
// after it lane masks: the row's two loads, the output lanes with a source
// column inside the row, and the output row.
//
//go:noescape
func im2colStride2AVX512(dst, plane *float32, h, w, ho, wo, iy0 int, idx *int32, lo, hi, valid, store int)

// im2colStride2AVX2 is Im2colStride2's loop for wo <= 16: iy0 is ky - p,
// off kx - p, and the pointers are into laneTable: from(-off) and
// firstLanes(w-off), whose lanes in common are the source row's columns
// (counted from off), and firstLanes(wo).
//
//go:noescape
func im2colStride2AVX2(dst, plane *float32, h, w, ho, wo, iy0, off int, from, first, out *int32)
