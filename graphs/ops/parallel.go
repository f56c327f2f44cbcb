package ops

import "sync"

// parallelFor runs body over [0, n) split into two contiguous halves on two
// goroutines when n is at least minWork, else on the caller. The split is
// fixed (not the machine's core count), so any per-half partial results
// combine in the same order everywhere.
func parallelFor(n, minWork int, body func(lo, hi int)) {
	if n < minWork || n < 2 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		body(n/2, n)
	}()
	body(0, n/2)
	wg.Wait()
}

// elementwiseMin is the size below which an elementwise op stays on one
// goroutine: starting one costs about a microsecond, a few thousand elements.
const elementwiseMin = 1 << 15
