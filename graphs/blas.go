package graphs

import (
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
