package graphs

import (
	"sync"

	G "gorgonia.org/gorgonia"
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

// newOutput returns a zeroed float32 tensor of the given shape: the next
// buffer of the running Program's arena when it still has this shape (ops
// accumulate into their outputs, so it is cleared), else a new one that
// takes that place.
func newOutput(shape tensor.Shape) *tensor.Dense { return nextOutput(shape, true) }

// nextOutput is newOutput, which leaves a reused buffer's old values in place
// unless zero is set.
func nextOutput(shape tensor.Shape, zero bool) *tensor.Dense {
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

// outputOf is newOutput of the op's inferred shape, with its storage.
func outputOf(op interface {
	InferShape(...G.DimSizer) (tensor.Shape, error)
}) (*tensor.Dense, []float32) {
	shape, _ := op.InferShape()
	out := newOutput(shape)
	return out, out.Data().([]float32)
}

// overwrittenOutputOf is outputOf for an op that writes every element of its
// output: a reused buffer is not cleared first (clearing the outputs of a
// UNet's convolutions cost a few percent of a step).
func overwrittenOutputOf(op interface {
	InferShape(...G.DimSizer) (tensor.Shape, error)
}) (*tensor.Dense, []float32) {
	shape, _ := op.InferShape()
	out := nextOutput(shape, false)
	return out, out.Data().([]float32)
}
