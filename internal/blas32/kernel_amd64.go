package blas32

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2/FMA kernel. x/sys/cpu also checks that the OS
// saves YMM state, so a true value means the instructions are safe to use.
// It is a variable so tests can exercise the Go kernel on the same machine.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 selects kern12x16 for pairs of row tiles. x/sys/cpu checks that
// the OS saves the ZMM and mask state too.
var useAVX512 = useAsm && cpu.X86.HasAVX512F

// kern6x16 is the assembly version of kernelGo; see its contract. Strides
// are in elements.
//
//go:noescape
func kern6x16(kc int, a *float32, rsa, csa, astep int, b, c *float32, ldc int, alpha, beta float32, nt int)

// kern12x16 is the AVX-512 kernel for pairs of row tiles; see its comment.
//
//go:noescape
func kern12x16(kc int, a *float32, rsa, csa, astep int, b, c *float32, ldc int, alpha, beta float32, pairs int)

func kernel(kc int, a []float32, rsa, csa, astep int, b, c []float32, ldc int, alpha, beta float32, nt int) {
	checkKernelArgs(kc, a, rsa, csa, astep, b, c, ldc, nt)
	if useAVX512 {
		if pairs := nt / 2; pairs > 0 {
			kern12x16(kc, &a[0], rsa, csa, astep, &b[0], &c[0], ldc, alpha, beta, pairs)
		}
		if nt%2 == 1 {
			t := nt - 1
			kern6x16(kc, &a[t*astep], rsa, csa, astep, &b[0], &c[t*mr*ldc], ldc, alpha, beta, 1)
		}
		return
	}
	if useAsm {
		kern6x16(kc, &a[0], rsa, csa, astep, &b[0], &c[0], ldc, alpha, beta, nt)
		return
	}
	kernelGo(kc, a, rsa, csa, astep, b, c, ldc, alpha, beta, nt)
}

// packBT16 is the assembly part of packBTrans16: groups blocks of 8 values
// of p, each done as two in-register 8×8 transposes.
//
//go:noescape
func packBT16(dst, b *float32, ldb, groups int)

// packBTrans16 packs a full 16-column panel of a transposed B (see
// packBTrans16Go). The scalar Go version costs about as much as a fifth of
// the multiply for the linear-layer shapes; the vector transpose makes it
// negligible.
func packBTrans16(dst, b []float32, ldb, kc int) {
	g := kc / 8
	if !useAsm || g == 0 {
		packBTrans16Go(dst, b, ldb, kc)
		return
	}
	if len(dst) < kc*nr || len(b) < (nr-1)*ldb+kc {
		panic("blas32: internal error: packing out of range")
	}
	packBT16(&dst[0], &b[0], ldb, g)
	for j := 0; j < nr; j++ {
		src := b[j*ldb+g*8 : j*ldb+kc]
		for p, v := range src {
			dst[(g*8+p)*nr+j] = v
		}
	}
}

// setAsm lets tests switch kernels; it reports nothing because tests restore
// the old value themselves.
func setAsm(on bool) {
	useAsm = on && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useAVX512 = useAsm && cpu.X86.HasAVX512F
}
