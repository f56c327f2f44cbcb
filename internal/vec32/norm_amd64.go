package vec32

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

// The same kernels on AVX2 vectors: the sums over n (a positive multiple
// of 16) elements in the same 16 lanes, Affine and NormGrad over n (a
// positive multiple of 8).

//go:noescape
func sumAVX2(x *float32, n int) (sum float64)

//go:noescape
func sumSquaresAVX2(x *float32, n int) (sum, sq float64)

//go:noescape
func sumCenteredAVX2(d, x *float32, n int, m float64) (sd, sdx float64)

//go:noescape
func affineAVX2(x, y *float32, n int, a, b float32)

//go:noescape
func normGradAVX2(d, x, dx *float32, n int, a, bx, m, c float32)
