package blas32

// checkKernelArgs panics if a kernel call would touch memory outside its
// slices, or has several tiles that do not follow one another at mr rows of
// A (the AVX2 kernel runs them as 6-row half tiles at one pitch). rows and
// cols are how much of each tile is stored into C: mr and nr, except for
// kernelEdge. The drivers never break these rules, but the assembly has no
// bounds checks of its own, so this cheap per-call guard turns a driver bug
// into a panic instead of silent memory corruption.
func checkKernelArgs(kc int, a []float32, rsa, csa, astep int, b []float32, bs int, c []float32, ldc, nt, rows, cols int) {
	if kc <= 0 || nt <= 0 || rsa < 0 || csa < 0 || astep < 0 || bs < nr ||
		rows < 1 || rows > mr || cols < 1 || cols > nr || ldc < cols ||
		(nt > 1 && astep != mr*rsa) ||
		(nt-1)*astep+(mr-1)*rsa+(kc-1)*csa >= len(a) ||
		(kc-1)*bs+nr > len(b) ||
		((nt-1)*mr+rows-1)*ldc+cols > len(c) {
		panic("blas32: internal error: kernel arguments out of range")
	}
}

// kernelGo is the portable micro-kernel. For each of nt tiles t it computes
// the mr×nr product of op(A) rows (element (i, p) at a[t*astep+i*rsa+p*csa])
// and the kc×nr B panel (element (p, j) at b[p*bs+j]; bs = nr when packed),
// and stores alpha*AB + beta*C into the tile of
// C at c[t*mr*ldc:], never reading C when beta == 0. The assembly kernel has
// exactly the same contract.
//
// Go does not vectorise, so the tile is computed in 2×4 sub-blocks whose 8
// accumulators, 2 A values and 4 B values all fit in registers; that halves
// the memory traffic per multiply-add compared with updating a tile array
// in memory.
func kernelGo(kc int, a []float32, rsa, csa, astep int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, nt int) {
	b = b[:(kc-1)*bs+nr]
	for t := 0; t < nt; t++ {
		ao := t * astep
		for i := 0; i < mr; i += 2 {
			a0 := ao + i*rsa
			a1 := a0 + rsa
			c0 := c[(t*mr+i)*ldc:]
			c0 = c0[:nr]
			c1 := c[(t*mr+i+1)*ldc:]
			c1 = c1[:nr]
			for j := 0; j < nr; j += 4 {
				var s00, s01, s02, s03, s10, s11, s12, s13 float32
				pa0, pa1 := a0, a1
				for p := j; p < len(b); p += bs {
					bq := (*[4]float32)(b[p : p+4])
					x0, x1 := a[pa0], a[pa1]
					s00 += x0 * bq[0]
					s01 += x0 * bq[1]
					s02 += x0 * bq[2]
					s03 += x0 * bq[3]
					s10 += x1 * bq[0]
					s11 += x1 * bq[1]
					s12 += x1 * bq[2]
					s13 += x1 * bq[3]
					pa0 += csa
					pa1 += csa
				}
				r0 := (*[4]float32)(c0[j : j+4])
				r1 := (*[4]float32)(c1[j : j+4])
				if beta == 0 {
					r0[0], r0[1], r0[2], r0[3] = alpha*s00, alpha*s01, alpha*s02, alpha*s03
					r1[0], r1[1], r1[2], r1[3] = alpha*s10, alpha*s11, alpha*s12, alpha*s13
				} else {
					r0[0] = alpha*s00 + beta*r0[0]
					r0[1] = alpha*s01 + beta*r0[1]
					r0[2] = alpha*s02 + beta*r0[2]
					r0[3] = alpha*s03 + beta*r0[3]
					r1[0] = alpha*s10 + beta*r1[0]
					r1[1] = alpha*s11 + beta*r1[1]
					r1[2] = alpha*s12 + beta*r1[2]
					r1[3] = alpha*s13 + beta*r1[3]
				}
			}
		}
	}
}

// packBTrans16Go packs a full 16-column panel of a transposed B: dst[p*16+j]
// = b[j*ldb+p] for p < kc, j < 16.
func packBTrans16Go(dst, b []float32, ldb, kc int) {
	dst = dst[:kc*nr]
	for j := 0; j < nr; j++ {
		src := b[j*ldb:]
		src = src[:kc]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
}
