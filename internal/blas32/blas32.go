// Package blas32 provides a fast single-precision general matrix multiply
// (Sgemm) for row-major matrices, and a BLAS implementation that plugs it into
// gonum's pure-Go BLAS so that Gorgonia graphs (whose matmuls and im2col
// convolutions all end in Sgemm) run at a useful fraction of the CPU's peak.
//
// The multiply follows the Goto/BLIS structure: op(B) is packed into
// contiguous KC×NC panels, op(A) is consumed in MC×KC blocks (read in place
// through row and column strides; only a ragged last row tile is copied,
// with zero padding), and an MR×NR register-blocked micro-kernel computes
// each tile of C, applying alpha and beta as it stores. On amd64 with AVX2 and FMA the
// micro-kernel is hand-written assembly; elsewhere a Go kernel with the same
// contract is used.
package blas32

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's pure-Go BLAS with Sgemm replaced by the fast
// one, so that gorgonia.Use(blas32.Implementation{}) speeds up every graph
// while all other routines keep gonum's behaviour.
type Implementation struct{ gonum.Implementation }

// Compile-time proof that Implementation can be handed to anything that
// expects a full BLAS.
var (
	_ blas.Float32 = Implementation{}
	_ blas.Float64 = Implementation{}
)

// Sgemm computes C = alpha * op(A) * op(B) + beta * C; see the package-level
// Sgemm.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// defaultThreads is 2, from measurements on the 2-vCPU VMs this tool runs
// on. With the second vCPU idle, two goroutines ran the benchmark shapes
// 1.2-1.9× faster than one (one reaches 105-125 GFLOP/s); with a CPU-bound
// nice-5 process on it, 1.0-1.45×; only with another process's heavy numeric
// job on it were they slower, by up to 12%. Strips are handed out
// dynamically, which keeps that worst case small, and small multiplies never
// split, so the expected gain clearly outweighs the risk. Calls are further
// capped at GOMAXPROCS.
const defaultThreads = 2

var threads atomic.Int32

func init() { threads.Store(defaultThreads) }

// SetThreads sets how many goroutines large multiplies use and returns the
// previous value. Values below 1 are treated as 1, and each call uses at
// most GOMAXPROCS goroutines. Small multiplies always run on the calling
// goroutine because waking another would cost more than it saves.
func SetThreads(n int) int {
	if n < 1 {
		n = 1
	}
	if n > maxThreads {
		n = maxThreads
	}
	return int(threads.Swap(int32(n)))
}

// maxThreads bounds SetThreads so that a bogus value cannot make a call
// split into thousands of slivers.
const maxThreads = 64

// HasFastKernel reports whether the assembly micro-kernel is in use (amd64
// with AVX2 and FMA).
func HasFastKernel() bool { return useAsm }

// KernelPath names the micro-kernel that Sgemm runs: "AVX-512" (amd64 with
// AVX-512F, AVX2 and FMA), "AVX2" (AVX2 and FMA) or "Go". The choice is made
// once, at start, from golang.org/x/sys/cpu, which honours GODEBUG:
// GODEBUG=cpu.avx512f=off selects the AVX2 kernel on an AVX-512 machine, and
// cpu.avx2=off the Go one. Benchmarks report it, so that a figure says which
// path produced it.
func KernelPath() string {
	switch {
	case useAVX512:
		return "AVX-512"
	case useAsm:
		return "AVX2"
	}
	return "Go"
}

// Panic messages match gonum's so that callers see the usual BLAS errors.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// Sgemm computes C = alpha * op(A) * op(B) + beta * C for row-major matrices,
// with gonum's blas.Float32 Sgemm semantics (op(X) = X or X^T; A is m x k
// after op, B is k x n after op; lda/ldb/ldc are row strides).
//
// When beta == 0, C is overwritten without being read, so NaN or Inf values
// already in C do not propagate, as in reference BLAS. Invalid arguments
// panic with gonum's messages.
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, int(threads.Load()))
}

// SgemmSerial is Sgemm on the calling goroutine only, for callers that
// already run several multiplies side by side (a convolution splitting its
// batch over goroutines): nested splitting would only oversubscribe the
// cores. Results are identical to Sgemm's.
func SgemmSerial(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1)
}

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, nth int) {
	switch tA {
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	default:
		panic(badTranspose)
	}
	switch tB {
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	default:
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	// ConjTrans is plain transposition for real matrices.
	aT := tA != blas.NoTrans
	bT := tB != blas.NoTrans
	if aT {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bT {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	// The length checks below are what make every later access in bounds:
	// the drivers only touch elements inside these validated extents.
	if aT {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if bT {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if len(b) < (k-1)*ldb+n {
		panic(shortB)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	if alpha == 0 || k == 0 {
		if beta != 1 {
			scaleC(m, n, beta, c, ldc)
		}
		return
	}
	gemm(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nth)
}

// scaleC sets C = beta*C, writing zeros (not 0*C) when beta == 0 so that
// NaNs in C are discarded.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
