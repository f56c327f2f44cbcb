//go:build !amd64

package blas32

// Without the amd64 assembly, the Go kernel and Go packing are used.
const useAsm = false

// useAVX512 is never set off amd64; tests switch it.
var useAVX512 = false

// readsBInPlace reports whether the kernel takes B's rows at any stride. The
// Go kernel could, but packed panels are what keep it fast.
func readsBInPlace() bool { return false }

func kernel(kc int, a []float32, rsa, csa, astep int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, nt int) {
	checkKernelArgs(kc, a, rsa, csa, astep, b, bs, c, ldc, nt, mr, nr)
	kernelGo(kc, a, rsa, csa, astep, b, bs, c, ldc, alpha, beta, nt)
}

// kernelTop is kernel for one tile whose first rows rows are all that
// will be read.
func kernelTop(kc int, a []float32, rsa, csa int, b []float32, bs int, c []float32, ldc, rows int) {
	kernel(kc, a, rsa, csa, 0, b, bs, c, ldc, 1, 0, 1)
}

func packBTrans16(dst, b []float32, ldb, kc int) { packBTrans16Go(dst, b, ldb, kc) }

func setAsm(bool) {}

// storesEdges reports whether kernelEdge can write edge tiles straight into
// C: only the AVX-512 kernel can.
func storesEdges() bool { return false }

func kernelEdge(kc int, a []float32, rsa, csa, astep int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, nt, rows, cols int) {
	panic("blas32: internal error: no edge kernel on this architecture")
}
