package graphs

import (
	"fmt"
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
// so). Outputs whose lifetimes do not overlap also share storage within a
// run (plan.go): an intermediate node's value is only good until the last
// op reading it has run, which is why outputs are read through G.Read.
// Outside a Program's Run (tests calling an op directly) ops allocate.

// arena is one Program's op outputs in execution order. With a plan
// (plan.go), outputs whose lifetimes do not overlap share storage: bufs
// holds tensors over parts of store.
type arena struct {
	bufs []*tensor.Dense
	// base is the store each planned tensor in bufs was made over, to
	// notice a store that another program's run has since grown.
	base []*float32
	next int
	plan *outputPlan
	// err is the first output that did not match the plan: its size
	// differs, or it is past the planned ones.
	err error
}

var (
	// running serializes Program runs, because ops find the arena of the
	// current run through active: ops have no other handle on the program
	// that runs them. An op's own parallelism is inside its Do.
	running sync.Mutex
	active  *arena
	// store is the storage of the planned outputs, one for all programs,
	// as large as the largest plan needs. Nothing of an op's output is
	// read after the run that made it (outputs are copied out through
	// G.Read, gradients accumulate into storage of their own), and runs
	// are serialized, so programs that take turns (a GAN's two steps,
	// training and the samples drawn between epochs) need only the storage
	// of the largest. Guarded by running.
	store []float32
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
		// A tensor Gorgonia reshaped in place no longer matches and is
		// replaced, and so is one over a store since grown.
		if t := a.bufs[i]; t.Shape().Eq(shape) && (a.plan == nil || a.current(i)) {
			if zero {
				clear(t.Data().([]float32))
			}
			return t
		}
	} else {
		a.bufs, a.base = append(a.bufs, nil), append(a.base, nil)
	}
	t := a.tensor(i, shape)
	if zero && a.plan != nil {
		// Shared storage holds whatever the outputs sharing it left there.
		clear(t.Data().([]float32))
	}
	a.bufs[i] = t
	return t
}

// current reports whether output i's tensor is over the current store.
func (a *arena) current(i int) bool {
	p := a.plan
	if i >= len(p.size) || p.size[i] == 0 {
		return true // its own storage: a mismatch, already recorded, or empty
	}
	return len(store) > 0 && a.base[i] == &store[0]
}

// tensor is a new tensor for output i: over its part of the store when the
// plan has one for it, else with storage of its own. An output the plan
// does not foresee means the plan does not describe the run: it is
// recorded (Program.Run reports it) and the output gets its own storage.
func (a *arena) tensor(i int, shape tensor.Shape) *tensor.Dense {
	p := a.plan
	if p == nil {
		return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	n := shape.TotalSize()
	if i >= len(p.size) || p.size[i] != n {
		if a.err == nil {
			a.err = fmt.Errorf("op output %d of shape %v is not the planned one", i, shape)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	if n == 0 {
		return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	a.base[i] = &store[0] // Program.Run made it large enough
	at := p.offset[i]
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(store[at:at+n:at+n]))
}
