package blas32

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are the multiplies the models actually issue.
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"linear_fwd_NT_128x256x784", blas.NoTrans, blas.Trans, 128, 256, 784},
	{"linear_NN_128x784x256", blas.NoTrans, blas.NoTrans, 128, 784, 256},
	{"wgrad_TN_784x256x128", blas.Trans, blas.NoTrans, 784, 256, 128},
	{"square_NN_512x512x512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
	{"conv3x3_NT_12544x64x576", blas.NoTrans, blas.Trans, 12544, 64, 576},
	{"conv1_NN_50176x32x9", blas.NoTrans, blas.NoTrans, 50176, 32, 9},
	// Winograd's 16 products of a 3x3 convolution with 16 and 64 channels
	// (RealNVP's couplings, UNet-S): O x tiles x C, 4 rows past 12-row tiles.
	{"winograd_NN_16x512x16", blas.NoTrans, blas.NoTrans, 16, 512, 16},
	{"winograd_NN_64x512x64", blas.NoTrans, blas.NoTrans, 64, 512, 64},
}

type sgemmFunc func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func benchSgemm(b *testing.B, f sgemmFunc, tA, tB blas.Transpose, m, n, k int) {
	r := rand.New(rand.NewPCG(3, 4))
	a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	lda, ldb := k, n
	if tA != blas.NoTrans {
		lda = m
	}
	if tB != blas.NoTrans {
		ldb = k
	}
	f(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n) // warm buffers and caches
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, th), func(b *testing.B) {
				defer SetThreads(SetThreads(th))
				benchSgemm(b, Sgemm, s.tA, s.tB, s.m, s.n, s.k)
			})
		}
		if useAVX512 {
			b.Run(s.name+"/threads=1/avx2", func(b *testing.B) {
				defer SetThreads(SetThreads(1))
				defer func() { useAVX512 = true }()
				useAVX512 = false
				benchSgemm(b, Sgemm, s.tA, s.tB, s.m, s.n, s.k)
			})
		}
		b.Run(s.name+"/gonum", func(b *testing.B) {
			benchSgemm(b, gonum.Implementation{}.Sgemm, s.tA, s.tB, s.m, s.n, s.k)
		})
	}
}

// TestSgemmBenchShapes checks the benchmarked shapes themselves against
// gonum, with the error bound k*eps*(|alpha||A||B| + |beta||C|) computed by
// gonum on absolute values, with 1 and 2 threads.
func TestSgemmBenchShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large multiplies")
	}
	defer SetThreads(SetThreads(1))
	ref := gonum.Implementation{}
	abs := func(x []float32) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = max(v, -v)
		}
		return y
	}
	for _, s := range benchShapes {
		r := rand.New(rand.NewPCG(5, 6))
		a, b, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), randSlice(r, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.tA != blas.NoTrans {
			lda = s.m
		}
		if s.tB != blas.NoTrans {
			ldb = s.k
		}
		want := append([]float32(nil), c...)
		ref.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, want, s.n)
		bound := abs(c)
		ref.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 0.7, abs(a), lda, abs(b), ldb, 0.3, bound, s.n)
		tol := 2 * float32(s.k+3) * 6e-8
		for _, th := range []int{1, 2} {
			SetThreads(th)
			got := append([]float32(nil), c...)
			Sgemm(s.tA, s.tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, got, s.n)
			for i := range got {
				if d := got[i] - want[i]; max(d, -d) > tol*bound[i] {
					t.Fatalf("%s threads=%d: element %d = %v, gonum %v", s.name, th, i, got[i], want[i])
				}
			}
		}
	}
}
