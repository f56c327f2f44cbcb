package graphs

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/internal/blas32"
)

// Every matrix multiply of every graph goes through the project's own sgemm
// (an AVX2/FMA kernel in Go assembly, about 4x gonum's on this hardware, with
// a pure-Go fallback elsewhere): directly in the project's ops, and through
// Gorgonia's BLAS hook for Gorgonia's matmuls and convolutions.
func init() { G.Use(blas32.Implementation{}) }

// Sgemm is the single-precision matrix multiply of the project's own ops
// (row-major, gonum's blas.Float32 semantics).
var Sgemm = blas32.Sgemm

// SgemmSerial is Sgemm without splitting the work over goroutines, for ops
// that parallelize over their batch themselves.
var SgemmSerial = blas32.SgemmSerial

// gemmFunc is the signature of Sgemm and SgemmSerial, for ops that pick one.
type gemmFunc = func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
