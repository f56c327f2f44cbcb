package graphs

import (
	"sync"

	"gorgonia.org/tensor"
)

// Gorgonia's tape machine keeps no op outputs between runs: every op
// allocates its result anew, hundreds of megabytes per UNet training step,
// and the garbage collector's work grew with it. The project's ops take
// their outputs from the arena of the Program being run instead: a tape
// machine executes its ops in the same order on every run, so the i-th
// output of one run can be the i-th output of the last run, overwritten.
// A value must therefore not be kept past the next Run (Program.Value says
// so). Outside a Program's Run (tests calling an op directly) ops allocate.

// arena is one Program's op outputs in execution order.
type arena struct {
	bufs []*tensor.Dense
	next int
}

var (
	// running serializes Program runs, because ops find the arena of the
	// current run through active: ops have no other handle on the program
	// that runs them. An op's own parallelism is inside its Do.
	running sync.Mutex
	active  *arena
)

// NewOutput returns a float32 tensor of the given shape for an op's Do to
// return: the next buffer of the running Program's arena when it still has
// this shape, else a new one that takes that place (outside a Program's Run,
// always a new one). A reused buffer is cleared when zero is set (for ops
// that accumulate into their outputs); otherwise it keeps the last run's
// values, for ops that write every element.
func NewOutput(shape tensor.Shape, zero bool) *tensor.Dense {
	a := active
	if a == nil {
		return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	i := a.next
	a.next++
	if i < len(a.bufs) {
		// A tensor Gorgonia reshaped in place no longer matches and is replaced.
		if t := a.bufs[i]; t.Shape().Eq(shape) {
			if zero {
				clear(t.Data().([]float32))
			}
			return t
		}
	} else {
		a.bufs = append(a.bufs, nil)
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	a.bufs[i] = t
	return t
}
