package blas32

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2/FMA kernel. x/sys/cpu also checks that the OS
// saves YMM state, so a true value means the instructions are safe to use.
// It is a variable so tests can exercise the Go kernel on the same machine.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 selects kern12x16 over kern6x16. x/sys/cpu checks that
// the OS saves the ZMM and mask state too.
var useAVX512 = useAsm && cpu.X86.HasAVX512F

// kern6x16 is the AVX2 kernel: kernelGo's contract for 6-row tiles (the
// tiles' height is 6 here, not mr), B's rows bs elements apart. Strides are
// in elements.
//
//go:noescape
func kern6x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt int)

// kern12x16 is the AVX-512 kernel: kernelGo's contract, in assembly, with
// stores limited to the first rows rows of each tile and to the columns of
// the cols lane mask; unfused selects mergeTile's unfused alpha*AB + beta*C
// instead of a fused multiply-add (see kernelEdge).
//
//go:noescape
func kern12x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt, rows, unfused, cols int)

// kern4x16 and kern8x16 are kern12x16 for one tile (nt = 1) of at most 4 or
// 8 rows: the same bits for the rows stored, computing no others.
//
//go:noescape
func kern4x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt, rows, unfused, cols int)

//go:noescape
func kern8x16(kc int, a *float32, rsa, csa, astep int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, nt, rows, unfused, cols int)

// readsBInPlace reports whether the kernel takes B's rows at any stride, so
// that full column panels of an untransposed B need no packing. Both
// assembly kernels do: packing them cost the AVX2 path about a tenth of a
// UNet-S training step (a 64-byte memmove per panel row).
func readsBInPlace() bool { return useAsm }

// storesEdges reports whether kernelEdge can write edge tiles straight into C.
func storesEdges() bool { return useAVX512 }

// kernelEdge is kernel for nt tiles of which only the first rows rows and
// the first cols columns are stored (C's rows may then be narrower than a
// tile), straight into C with masked stores: no tile buffer and no
// mergeTile. It computes alpha*AB + beta*C as mergeTile does, without a
// fused multiply-add, so that it matches the other kernels' edge tiles bit
// for bit. Only the AVX-512 kernel has it (storesEdges).
func kernelEdge(kc int, a []float32, rsa, csa, astep int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, nt, rows, cols int) {
	if !useAVX512 {
		panic("blas32: internal error: no edge kernel without AVX-512")
	}
	checkKernelArgs(kc, a, rsa, csa, astep, b, bs, c, ldc, nt, rows, cols)
	// A ragged last row tile of a few rows (16 output channels are a
	// 12-row tile and a 4-row one) runs a kernel of that many rows instead
	// of computing 12 and storing few.
	kern := kern12x16
	switch {
	case nt == 1 && rows <= 4:
		kern = kern4x16
	case nt == 1 && rows <= 8:
		kern = kern8x16
	}
	kern(kc, &a[0], rsa, csa, astep, &b[0], bs, &c[0], ldc, alpha, beta, nt, rows, 1, 1<<cols-1)
}

func kernel(kc int, a []float32, rsa, csa, astep int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, nt int) {
	checkKernelArgs(kc, a, rsa, csa, astep, b, bs, c, ldc, nt, mr, nr)
	if useAVX512 {
		kern12x16(kc, &a[0], rsa, csa, astep, &b[0], bs, &c[0], ldc, alpha, beta, nt, mr, 0, 1<<nr-1)
		return
	}
	if useAsm {
		// The AVX2 kernel does 6-row tiles: each 12-row tile is two of
		// them, 6*rsa apart, and the tiles follow one another at that pitch
		// (checkKernelArgs), so one call takes them all.
		kern6x16(kc, &a[0], rsa, csa, 6*rsa, &b[0], bs, &c[0], ldc, alpha, beta, 2*nt)
		return
	}
	kernelGo(kc, a, rsa, csa, astep, b, bs, c, ldc, alpha, beta, nt)
}

// kernelTop is kernel for one tile (alpha 1, beta 0) whose first rows rows
// are all that will be read: the AVX2 kernel, whose 12-row tiles are two
// 6-row ones, then computes only the first of the two when rows <= 6, the
// same bits for those rows.
func kernelTop(kc int, a []float32, rsa, csa int, b []float32, bs int, c []float32, ldc, rows int) {
	if !useAVX512 && useAsm && rows <= 6 {
		checkKernelArgs(kc, a, rsa, csa, 0, b, bs, c, ldc, 1, rows, nr)
		kern6x16(kc, &a[0], rsa, csa, 6*rsa, &b[0], bs, &c[0], ldc, 1, 0, 1)
		return
	}
	kernel(kc, a, rsa, csa, 0, b, bs, c, ldc, 1, 0, 1)
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
