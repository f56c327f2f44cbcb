package blas32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// refGemm is the textbook triple loop in float64, the oracle for all tests.
func refGemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	at := func(i, p int) float64 {
		if tA == blas.NoTrans {
			return float64(a[i*lda+p])
		}
		return float64(a[p*lda+i])
	}
	bt := func(p, j int) float64 {
		if tB == blas.NoTrans {
			return float64(b[p*ldb+j])
		}
		return float64(b[j*ldb+p])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*ldc+j] = v
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// absGemm bounds the rounding error of each entry: |alpha|*sum|a||b| +
// |beta*c|, scaled by k*eps below.
func absGemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	abs := func(x []float32) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(math.Abs(float64(v)))
		}
		return y
	}
	cc := abs(c)
	if beta == 0 {
		cc = make([]float32, len(c))
	}
	return refGemm(tA, tB, m, n, k, float32(math.Abs(float64(alpha))), abs(a), lda, abs(b), ldb, float32(math.Abs(float64(beta))), cc, ldc)
}

type gemmCase struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta float32
	pad         int // extra elements per row of every operand
	nanC        bool
}

func (tc gemmCase) String() string {
	t := func(x blas.Transpose) string {
		if x == blas.NoTrans {
			return "N"
		}
		return "T"
	}
	return fmt.Sprintf("%s%s/m%d_n%d_k%d/alpha%g_beta%g/pad%d/nan%v", t(tc.tA), t(tc.tB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad, tc.nanC)
}

// run executes one case with the given Sgemm and checks it against the
// float64 oracle. It also checks that padding between rows of C is left
// untouched.
func (tc gemmCase) run(t *testing.T, sgemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(tc.m*1000003+tc.n*1009+tc.k), uint64(tc.pad+1)))
	ar, ac := tc.m, tc.k
	if tc.tA != blas.NoTrans {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB != blas.NoTrans {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ac+tc.pad), max(1, bc+tc.pad), max(1, tc.n+tc.pad)
	a := randSlice(r, max(0, (ar-1)*lda+ac))
	b := randSlice(r, max(0, (br-1)*ldb+bc))
	c := randSlice(r, max(0, tc.m*ldc))
	if tc.nanC {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	// Padding is filled with a sentinel that must survive.
	const sentinel = 12345.5
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < ldc; j++ {
			c[i*ldc+j] = sentinel
		}
	}
	want := refGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	bound := absGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	eps := float64(float32(math.Nextafter32(1, 2) - 1))
	tol := float64(tc.k+3) * eps
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := float64(c[i*ldc+j])
			if j >= tc.n {
				if got != sentinel {
					t.Fatalf("%v: padding C[%d][%d] overwritten with %v", tc, i, j, got)
				}
				continue
			}
			w := want[i*ldc+j]
			if !(math.Abs(got-w) <= tol*bound[i*ldc+j]+1e-30) {
				if bad < 5 {
					t.Errorf("%v: C[%d][%d] = %v, want %v (bound %g)", tc, i, j, got, w, tol*bound[i*ldc+j])
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d wrong entries", tc, bad)
	}
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

// accuracyCases is the full grid for the small sizes plus the edges around
// the tile and block sizes (mr = 12, nr = 16, mcMax, kcMax).
func accuracyCases(short bool) []gemmCase {
	sizes := []int{0, 1, 2, 3, 5, 7, 11, 12, 13, 17, 24, 25, 31, 64, 65, 127, 130, 257}
	if short {
		sizes = []int{0, 1, 2, 7, 13, 17, 30, 65, 130}
	}
	var cases []gemmCase
	i := 0
	for _, ta := range transposes {
		for _, tb := range transposes {
			for _, m := range sizes {
				for _, n := range sizes {
					for _, k := range sizes {
						// Cycle through scalars and strides rather than
						// taking the full product, which would take minutes
						// in the float64 oracle without finding more bugs.
						alphas := []float32{1, -0.5, 2}
						betas := []float32{0, 1, 0.3}
						tc := gemmCase{tA: ta, tB: tb, m: m, n: n, k: k,
							alpha: alphas[i%3], beta: betas[(i/3)%3], pad: (i / 2) % 3 * 3}
						tc.nanC = tc.beta == 0 && i%2 == 0
						i++
						if m*n*k > 130*130*130 && i%4 != 0 {
							continue
						}
						cases = append(cases, tc)
					}
				}
			}
		}
	}
	return cases
}

func TestSgemmAccuracy(t *testing.T) {
	for _, tc := range accuracyCases(testing.Short()) {
		tc.run(t, Sgemm)
	}
}

// TestSgemmScalars takes every alpha/beta/NaN combination on sizes that
// cross tile and block edges.
func TestSgemmScalars(t *testing.T) {
	for _, ta := range transposes {
		for _, tb := range transposes {
			for _, sz := range [][3]int{{13, 17, 31}, {65, 130, 127}, {257, 33, 400}, {7, 257, 800}} {
				for _, alpha := range []float32{1, -0.5, 2} {
					for _, beta := range []float32{0, 1, 0.3} {
						for _, nan := range []bool{false, true} {
							if nan && beta != 0 {
								continue
							}
							gemmCase{tA: ta, tB: tb, m: sz[0], n: sz[1], k: sz[2], alpha: alpha, beta: beta, pad: 5, nanC: nan}.run(t, Sgemm)
						}
					}
				}
			}
		}
	}
}

// TestSgemmAlphaZero checks the quick path: C = beta*C without touching A.
func TestSgemmAlphaZero(t *testing.T) {
	for _, beta := range []float32{0, 1, 0.3} {
		gemmCase{tA: blas.NoTrans, tB: blas.Trans, m: 9, n: 20, k: 11, alpha: 0, beta: beta, pad: 2, nanC: beta == 0}.run(t, Sgemm)
		gemmCase{tA: blas.NoTrans, tB: blas.Trans, m: 9, n: 20, k: 0, alpha: 1, beta: beta, pad: 2}.run(t, Sgemm)
	}
}

// TestSgemmSmallBlocks shrinks the cache blocks so that the small grid
// crosses every blocking loop (several jc, pc and ic blocks per call).
func TestSgemmSmallBlocks(t *testing.T) {
	defer func(kc, mc, nc int) { kcMax, mcMax, ncMax = kc, mc, nc }(kcMax, mcMax, ncMax)
	kcMax, mcMax, ncMax = 16, 12, 32
	for _, tc := range accuracyCases(true) {
		tc.run(t, Sgemm)
	}
}

// TestSgemmGoKernel runs the same grid through the portable kernel, which
// is what non-AVX2 machines and other architectures execute.
func TestSgemmGoKernel(t *testing.T) {
	defer func(old bool) { setAsm(old) }(useAsm)
	setAsm(false)
	for _, tc := range accuracyCases(true) {
		tc.run(t, Sgemm)
	}
}

// TestKernelPath checks that KernelPath names the kernel that the CPU
// features, as golang.org/x/sys/cpu reports them after GODEBUG, select, and
// the Go kernel once the assembly is switched off.
func TestKernelPath(t *testing.T) {
	defer func(asm, avx512 bool) { setAsm(asm); useAVX512 = avx512 }(useAsm, useAVX512)
	x := cpu.X86
	want := "Go"
	switch {
	case runtime.GOARCH != "amd64":
	case x.HasAVX512F && x.HasAVX2 && x.HasFMA:
		want = "AVX-512"
	case x.HasAVX2 && x.HasFMA:
		want = "AVX2"
	}
	if got := KernelPath(); got != want {
		t.Errorf("KernelPath() = %q, want %q (avx512f %v, avx2 %v, fma %v)", got, want, x.HasAVX512F, x.HasAVX2, x.HasFMA)
	}
	setAsm(false)
	useAVX512 = false
	if got := KernelPath(); got != "Go" {
		t.Errorf("with the assembly off, KernelPath() = %q, want Go", got)
	}
}

// TestSgemmAVX2Kernel runs the grid through the AVX2 kernel alone, which is
// what machines without AVX-512 execute; on this machine the default grid
// goes through the AVX-512 kernel (and the AVX2 one for odd row tiles).
func TestSgemmAVX2Kernel(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2 on this machine")
	}
	defer func(old bool) { useAVX512 = old }(useAVX512)
	useAVX512 = false
	for _, tc := range accuracyCases(true) {
		tc.run(t, Sgemm)
	}
}

// TestAVX512MatchesAVX2 checks that the two assembly kernels agree bit for
// bit: both accumulate each element over k in the same order with FMAs, so a
// run resumed on a machine without AVX-512 continues exactly.
func TestAVX512MatchesAVX2(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine")
	}
	defer func() { useAVX512 = true }()
	r := rand.New(rand.NewPCG(1, 2))
	// Row counts past the last whole 12-row tile of 1 to 11 run the
	// short kernels (4 and 8 rows) or the 12-row one.
	for _, s := range [][3]int{{300, 200, 150}, {37, 64, 1000}, {128, 33, 7}, {12, 16, 1},
		{16, 48, 9}, {64, 40, 3}, {7, 20, 33}, {5, 17, 2}, {2, 16, 64}, {23, 31, 5}, {4, 1, 1}, {20, 100, 300}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		for _, beta := range []float32{0.3, 0} {
			wide, narrow := randSlice(r, m*n), make([]float32, m*n)
			copy(narrow, wide)
			useAVX512 = true
			Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 0.7, a, k, b, n, beta, wide, n)
			useAVX512 = false
			Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 0.7, a, k, b, n, beta, narrow, n)
			for i := range wide {
				if wide[i] != narrow[i] {
					t.Fatalf("m%d n%d k%d beta %v: element %d is %v with AVX-512, %v with AVX2", m, n, k, beta, i, wide[i], narrow[i])
				}
			}
		}
	}
}

// TestSgemmThreads checks that the parallel split gives the same answer,
// bit for bit, as the serial path: each C element is computed by exactly
// one goroutine with the same blocking, so nothing may differ.
func TestSgemmThreads(t *testing.T) {
	defer SetThreads(SetThreads(1))
	// Calls never use more goroutines than Ps, so make sure there are two.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	before := parCalls.Load()
	defer func() {
		if parCalls.Load() == before {
			t.Error("no multiply took the parallel path")
		}
	}()
	for _, ta := range transposes {
		for _, tb := range transposes {
			for _, sz := range [][3]int{{300, 200, 150}, {100, 700, 90}, {1000, 40, 70}, {257, 257, 257}} {
				m, n, k := sz[0], sz[1], sz[2]
				r := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
				a := randSlice(r, m*k)
				b := randSlice(r, k*n)
				c0 := randSlice(r, m*n)
				lda, ldb := k, n
				if ta != blas.NoTrans {
					lda = m
				}
				if tb != blas.NoTrans {
					ldb = k
				}
				var results [][]float32
				for _, th := range []int{1, 2, 3} {
					SetThreads(th)
					c := append([]float32(nil), c0...)
					Sgemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, c, n)
					results = append(results, c)
				}
				for i := 1; i < len(results); i++ {
					for j := range results[0] {
						if results[i][j] != results[0][j] {
							t.Fatalf("%v%v %v: threads run %d differs at %d: %v vs %v", ta, tb, sz, i, j, results[i][j], results[0][j])
						}
					}
				}
				gemmCase{tA: ta, tB: tb, m: m, n: n, k: k, alpha: 1, beta: 0.3}.run(t, Sgemm)
			}
		}
	}
}

func TestImplementationMatchesGonum(t *testing.T) {
	var impl blas.Float32 = Implementation{}
	var ref blas.Float32 = gonum.Implementation{}
	for _, ta := range transposes {
		for _, tb := range transposes {
			for _, sz := range [][3]int{{1, 1, 1}, {37, 45, 29}, {128, 64, 300}} {
				m, n, k := sz[0], sz[1], sz[2]
				r := rand.New(rand.NewPCG(uint64(m), uint64(k)))
				a := randSlice(r, m*k)
				b := randSlice(r, k*n)
				c := randSlice(r, m*n)
				lda, ldb := k, n
				if ta != blas.NoTrans {
					lda = m
				}
				if tb != blas.NoTrans {
					ldb = k
				}
				got := append([]float32(nil), c...)
				want := append([]float32(nil), c...)
				impl.Sgemm(ta, tb, m, n, k, -0.5, a, lda, b, ldb, 0.3, got, n)
				ref.Sgemm(ta, tb, m, n, k, -0.5, a, lda, b, ldb, 0.3, want, n)
				tol := float64(k+3) * 1.2e-7 * 4
				for i := range got {
					if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) {
						t.Fatalf("%v%v %v: element %d = %v, gonum %v", ta, tb, sz, i, got[i], want[i])
					}
				}
			}
		}
	}
	// The embedded gonum routines must still be reachable.
	if got := (Implementation{}).Sdot(2, []float32{1, 2}, 1, []float32{3, 4}, 1); got != 11 {
		t.Fatalf("Sdot = %v, want 11", got)
	}
	if got := (Implementation{}).Ddot(2, []float64{1, 2}, 1, []float64{3, 4}, 1); got != 11 {
		t.Fatalf("Ddot = %v, want 11", got)
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 100)
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"tA", func() { Sgemm('x', blas.NoTrans, 2, 2, 2, 1, a, 2, a, 2, 0, a, 2) }, badTranspose},
		{"tB", func() { Sgemm(blas.NoTrans, 'x', 2, 2, 2, 1, a, 2, a, 2, 0, a, 2) }, badTranspose},
		{"m", func() { Sgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) }, mLT0},
		{"n", func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, -1, 2, 1, a, 2, a, 2, 0, a, 2) }, nLT0},
		{"k", func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, -1, 1, a, 2, a, 2, 0, a, 2) }, kLT0},
		{"lda", func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }, badLdA},
		{"ldaT", func() { Sgemm(blas.Trans, blas.NoTrans, 3, 2, 2, 1, a, 2, a, 2, 0, a, 2) }, badLdA},
		{"ldb", func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, a, 2, a, 2, 0, a, 3) }, badLdB},
		{"ldbT", func() { Sgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, a, 3, a, 2, 0, a, 2) }, badLdB},
		{"ldc", func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, a, 2, a, 3, 0, a, 2) }, badLdC},
		{"shortA", func() { Sgemm(blas.NoTrans, blas.NoTrans, 10, 10, 10, 1, a[:99], 10, a, 10, 0, a, 10) }, shortA},
		{"shortB", func() { Sgemm(blas.NoTrans, blas.Trans, 10, 10, 10, 1, a, 10, a[:99], 10, 0, a, 10) }, shortB},
		{"shortC", func() { Sgemm(blas.Trans, blas.NoTrans, 10, 10, 10, 1, a, 10, a, 10, 0, a[:99], 10) }, shortC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.msg {
					t.Fatalf("panic %v, want %q", r, tc.msg)
				}
			}()
			tc.f()
		})
	}
	// Exactly-sized slices (no trailing padding after the last row) must
	// be accepted and must not be overrun.
	Sgemm(blas.NoTrans, blas.NoTrans, 7, 17, 5, 1, make([]float32, 6*9+5), 9, make([]float32, 4*20+17), 20, 0, make([]float32, 6*18+17), 18)
}

// TestSgemmNoAlloc checks that steady-state calls reuse pooled buffers.
func TestSgemmNoAlloc(t *testing.T) {
	defer SetThreads(SetThreads(1))
	m, n, k := 130, 200, 300
	r := rand.New(rand.NewPCG(1, 2))
	a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	for _, tb := range transposes {
		ldb := n
		if tb != blas.NoTrans {
			ldb = k
		}
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(blas.NoTrans, tb, m, n, k, 1, a, k, b, ldb, 0, c, n)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per call, want 0", tb, allocs)
		}
	}
}

func TestHasFastKernel(t *testing.T) {
	t.Logf("HasFastKernel = %v", HasFastKernel())
}
