package graphs

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Sgemm is the single-precision matrix multiply of the project's own ops
// (row-major, gonum's blas.Float32 semantics).
var Sgemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) = gonum.Implementation{}.Sgemm
