package blas32

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Register tile of the micro-kernel: MR rows of C by NR columns. The AVX-512
// kernel keeps a 12×16 tile in 12 of the 32 ZMM registers (twelve
// independent FMA chains cover the FMA latency on two pipes); the AVX2
// kernel does it as two 6×16 halves in 12 of the 16 YMM registers. NR = 16
// also divides every channel count the models use, so most column panels
// are full.
const (
	mr = 12
	nr = 16
)

// Cache blocking. The B micro-panel (kc×nr) must stay in L1 while a column of
// A tiles streams past it, the A block (mc×kc) must stay in L2 while it is
// swept by every B micro-panel, and the packed B block (kc×nc) lives in
// L2/L3. The values were tuned on a Zen (48 KiB L1d, 1 MiB L2) VM; they are
// variables so benchmarks can explore them.
var (
	kcMax = 384
	mcMax = 144
	ncMax = 3072
)

// Parallel split. Waking a goroutine on an idle vCPU of these VMs takes
// tens of microseconds: with two threads, 4 MFLOP multiplies (35 µs) measured
// 10-20% slower split than not and 6 MFLOP ones broke even, so only
// multiplies of parMinFlops or more are split, into strips of at least
// parStripFlops. A strip is also at least parMinPanels column panels or
// parMinTiles row tiles so that per-strip packing stays small, and each
// goroutine gets up to stripsPerThread strips so that one on a busy vCPU
// can take fewer.
const (
	parMinFlops     = 1 << 23
	parStripFlops   = 1 << 21
	parMinPanels    = 2
	parMinTiles     = 8
	stripsPerThread = 4
)

// workspace holds one goroutine's packing buffers.
type workspace struct {
	bp   []float32        // packed op(B) block, nr-column panels, zero padded
	ap   []float32        // packed op(A) edge tile (mr×kc, zero padded)
	tile [mr * nr]float32 // scratch for tiles that are cut by the edge of C
}

// wsFree keeps idle workspaces so that steady-state calls allocate nothing.
// It is a bounded free list rather than a sync.Pool because a pool is
// emptied by every other GC cycle, and a training loop collects often
// enough that the megabyte-sized panels would be reallocated again and
// again. The bound caps what is retained if many goroutines multiply at
// once; extra workspaces are simply left to the GC.
var wsFree = make(chan *workspace, 8)

func getWorkspace() *workspace {
	select {
	case ws := <-wsFree:
		return ws
	default:
		return new(workspace)
	}
}

func putWorkspace(ws *workspace) {
	select {
	case wsFree <- ws:
	default:
	}
}

// grow returns buf resliced to n elements, reallocating only when it is too
// small, so that buffers settle at the largest size a process needs.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// blockSize splits x into the fewest blocks of at most max elements and
// returns an even block size rounded up to mult. Even blocks avoid a thin
// trailing block (for example k = 784 is done as 2×392, not 384+384+16,
// which would be a third pass over C for almost no work).
func blockSize(x, max, mult int) int {
	blocks := (x + max - 1) / max
	s := (x + blocks - 1) / blocks
	return (s + mult - 1) / mult * mult
}

// gemm runs C = alpha*op(A)*op(B) + beta*C on validated arguments with
// m, n, k > 0 and alpha != 0, spreading the work over nth goroutines when
// the problem is big enough.
func gemm(aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, nth int) {
	if nth > 1 {
		// More goroutines than Ps would only time-slice.
		nth = min(nth, runtime.GOMAXPROCS(0))
		flops := 2 * float64(m) * float64(n) * float64(k)
		if nth > 1 && flops >= parMinFlops &&
			gemmParallel(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nth, int(min(flops/parStripFlops, 1<<20))) {
			return
		}
	}
	gemmSerial(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// parCalls counts multiplies that took the parallel path, so tests can tell
// that they exercised it.
var parCalls atomic.Int64

// gemmParallel cuts C into strips along N (when op(B) is the larger
// operand) or along M, and lets nth goroutines take strips from a shared
// counter until none are left (at most maxStrips strips). Strips are several per goroutine rather than
// one each because the second vCPU is often shared with other work: with a
// static half/half split the fast goroutine would idle while the slow one
// finishes, which measured slower than not splitting at all.
//
// Each strip is an independent gemmSerial on a sub-matrix: along N a
// goroutine packs only its own columns of B and reads A in place, so no
// work is duplicated; along M each strip repacks the (then smaller) B. The
// strips write disjoint parts of C, and each element goes through exactly
// the same operations as in a serial run, so results are identical for any
// thread count. It reports false when the problem is too narrow to split.
func gemmParallel(aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, nth, maxStrips int) bool {
	splitN := n >= m
	var units, unit, dim, minUnits int
	if splitN {
		units, unit, dim, minUnits = (n+nr-1)/nr, nr, n, parMinPanels
	} else {
		units, unit, dim, minUnits = (m+mr-1)/mr, mr, m, parMinTiles
	}
	strips := min(units/minUnits, nth*stripsPerThread, maxStrips)
	if strips < 2 {
		return false
	}
	parCalls.Add(1)
	workers := min(nth, strips)
	var next atomic.Int32
	work := func() {
		for {
			s := int(next.Add(1)) - 1
			if s >= strips {
				return
			}
			lo := units * s / strips * unit
			hi := min(units*(s+1)/strips*unit, dim)
			if splitN {
				var bs []float32
				if bT {
					bs = b[lo*ldb:]
				} else {
					bs = b[lo:]
				}
				gemmSerial(aT, bT, m, hi-lo, k, alpha, a, lda, bs, ldb, beta, c[lo:], ldc)
			} else {
				var as []float32
				if aT {
					as = a[lo:]
				} else {
					as = a[lo*lda:]
				}
				gemmSerial(aT, bT, hi-lo, n, k, alpha, as, lda, b, ldb, beta, c[lo*ldc:], ldc)
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	// The calling goroutine works too instead of just waiting.
	work()
	wg.Wait()
	return true
}

// gemmSerial is the single-goroutine Goto/BLIS loop nest.
func gemmSerial(aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ws := getWorkspace()
	defer putWorkspace(ws)

	kc := blockSize(k, kcMax, 1)
	nc := blockSize(n, ncMax, nr)
	mc := blockSize(m, mcMax, mr)
	ws.bp = grow(ws.bp, kc*nc)
	ws.ap = grow(ws.ap, mr*kc)

	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			// Only the first k block applies the caller's beta; later
			// blocks accumulate onto what the earlier ones stored.
			betaEff := beta
			if pc > 0 {
				betaEff = 1
			}
			// A kernel that reads B's rows at any stride takes the full
			// panels of an untransposed B where they lie (its rows are
			// 16 contiguous values): only a ragged last panel is packed.
			var inPlace []float32
			if !bT && readsBInPlace() {
				inPlace = b[pc*ldb+jc:]
			}
			packB(ws.bp, bT, b, ldb, pc, kcb, jc, ncb, inPlace != nil)
			for ic := 0; ic < m; ic += mc {
				mcb := min(mc, m-ic)
				macroKernel(ws, aT, a, lda, ic, pc, mcb, kcb, ncb, inPlace, ldb, c[ic*ldc+jc:], ldc, alpha, betaEff)
			}
		}
	}
}

// macroKernel multiplies the mcb×kcb block of op(A) at (ic, pc) by the
// kcb×ncb block of op(B) and updates the matching block of C (c starts at
// its top-left element). B's panels are packed in ws.bp, except that full
// panels are read from inPlace (the block's top-left element of an
// untransposed B, rows ldb apart) when it is not nil.
func macroKernel(ws *workspace, aT bool, a []float32, lda, ic, pc, mcb, kcb, ncb int, inPlace []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	full := mcb / mr
	rem := mcb - full*mr

	// Row tiles read op(A) where it lies: the kernel takes a row and a
	// column stride, so both layouts work without a copy. Packing A would
	// cost a pass over A per B block and, for the small-k shapes that come
	// from convolutions, more than the multiply itself; the A block is
	// still reused from L2 across all column panels.
	var aBlock []float32
	var rsa, csa, astep int
	if aT {
		aBlock = a[pc*lda+ic:]
		rsa, csa, astep = 1, lda, mr
	} else {
		aBlock = a[ic*lda+pc:]
		rsa, csa, astep = lda, 1, mr*lda
	}
	aFull := aBlock
	// The ragged last row tile is read in place too when A's storage
	// reaches a whole tile's rows (the products of the rows beyond m are
	// computed and discarded), and otherwise packed with zero padding.
	var aRem []float32
	remRS, remCS := rsa, csa
	if rem > 0 {
		off := full * astep
		if off+(mr-1)*rsa+(kcb-1)*csa < len(aBlock) {
			aRem = aBlock[off:]
		} else {
			aRem = ws.ap[:mr*kcb]
			packA(aRem, aT, a, lda, ic+full*mr, pc, rem, kcb)
			remRS, remCS = 1, mr
		}
	}

	for jr := 0; jr < ncb; jr += nr {
		nrb := min(nr, ncb-jr)
		bPanel, bs := ws.bp[jr*kcb:jr*kcb+kcb*nr], nr
		if inPlace != nil && nrb == nr {
			bPanel, bs = inPlace[jr:], ldb
		}
		// Tiles cut by C's edge are stored through a masked kernel where
		// there is one, else computed into ws.tile and merged.
		edges := storesEdges()
		if full > 0 {
			switch {
			case nrb == nr:
				kernel(kcb, aFull, rsa, csa, astep, bPanel, bs, c[jr:], ldc, alpha, beta, full)
			case edges:
				kernelEdge(kcb, aFull, rsa, csa, astep, bPanel, bs, c[jr:], ldc, alpha, beta, full, mr, nrb)
			default:
				for t := 0; t < full; t++ {
					kernel(kcb, aFull[t*astep:], rsa, csa, astep, bPanel, bs, ws.tile[:], nr, 1, 0, 1)
					mergeTile(&ws.tile, mr, nrb, c[t*mr*ldc+jr:], ldc, alpha, beta)
				}
			}
		}
		if rem > 0 {
			if edges {
				kernelEdge(kcb, aRem, remRS, remCS, 0, bPanel, bs, c[full*mr*ldc+jr:], ldc, alpha, beta, 1, rem, nrb)
			} else {
				kernelTop(kcb, aRem, remRS, remCS, bPanel, bs, ws.tile[:], nr, rem)
				mergeTile(&ws.tile, rem, nrb, c[full*mr*ldc+jr:], ldc, alpha, beta)
			}
		}
	}
}

// mergeTile writes the top-left rows×cols of an unscaled product tile into
// C as alpha*tile + beta*C, without reading C when beta == 0.
func mergeTile(tile *[mr * nr]float32, rows, cols int, c []float32, ldc int, alpha, beta float32) {
	for i := 0; i < rows; i++ {
		t := tile[i*nr : i*nr+cols]
		row := c[i*ldc : i*ldc+cols]
		if beta == 0 {
			for j, v := range t {
				row[j] = alpha * v
			}
		} else {
			for j, v := range t {
				row[j] = alpha*v + beta*row[j]
			}
		}
	}
}

// packB copies the kcb×ncb block of op(B) at (pc, jc) into dst as a sequence
// of kcb×nr panels, each stored row by row, padding the last panel's missing
// columns with zeros. The kernel then reads B with unit stride and the whole
// panel sits in a few KiB of L1. With onlyRagged it packs just a last panel
// narrower than nr (the kernel reads the others in place).
func packB(dst []float32, bT bool, b []float32, ldb, pc, kcb, jc, ncb int, onlyRagged bool) {
	for jr := 0; jr < ncb; jr += nr {
		nrb := min(nr, ncb-jr)
		if onlyRagged && nrb == nr {
			continue
		}
		d := dst[jr*kcb : jr*kcb+kcb*nr]
		switch {
		case !bT && nrb == nr:
			// op(B)[p][j] = b[p*ldb+j]: each panel row is 16 contiguous
			// floats, copied as one fixed-size block.
			off := pc*ldb + jc + jr
			for p := 0; p < kcb; p++ {
				*(*[nr]float32)(d[p*nr:]) = *(*[nr]float32)(b[off:])
				off += ldb
			}
		case !bT:
			off := pc*ldb + jc + jr
			for p := 0; p < kcb; p++ {
				row := d[p*nr : p*nr+nr]
				copy(row, b[off:off+nrb])
				clear(row[nrb:])
				off += ldb
			}
		default:
			// op(B)[p][j] = b[j*ldb+p]: read each source row contiguously
			// and scatter it down a panel column.
			if nrb == nr {
				packBTrans16(d, b[(jc+jr)*ldb+pc:], ldb, kcb)
				continue
			}
			for j := 0; j < nrb; j++ {
				src := b[(jc+jr+j)*ldb+pc:]
				src = src[:kcb]
				for p, v := range src {
					d[p*nr+j] = v
				}
			}
			for p := 0; p < kcb; p++ {
				clear(d[p*nr+nrb : p*nr+nr])
			}
		}
	}
}

// packA copies rows×kcb of op(A) starting at (ic, pc) into dst (mr*kcb
// long) in the kernel's packed layout (for each p, mr consecutive row
// values), zero-filling rows beyond rows.
func packA(dst []float32, aT bool, a []float32, lda, ic, pc, rows, kcb int) {
	dst = dst[:mr*kcb]
	if rows < mr {
		clear(dst)
	}
	if aT {
		// op(A)[i][p] = a[p*lda+i]: the mr values for one p are contiguous.
		for p := 0; p < kcb; p++ {
			src := a[(pc+p)*lda+ic:]
			src = src[:rows]
			copy(dst[p*mr:p*mr+rows], src)
		}
		return
	}
	for r := 0; r < rows; r++ {
		src := a[(ic+r)*lda+pc:]
		src = src[:kcb]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}
