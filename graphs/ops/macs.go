package ops

import "sync/atomic"

// The arithmetic of the convolution and linear ops, counted as they run, so
// that a benchmark can state the work of a training or sampling step from
// the network that its configuration actually built, forward and backward,
// instead of from a hand count that drifts from the configs.
//
// Each pass counts the multiply-accumulates of a direct convolution or a
// dense matrix multiply of its shapes, whatever computes it: a Winograd
// convolution counts the direct convolution it replaces, and a transposed
// convolution the convolution it is the adjoint of. The forward pass, dL/dx
// and dL/dW of a layer each count that layer's forward MACs (dL/dx only
// where it is computed: not for a graph input); bias gradients, norms,
// activations, Gorgonia's own ops (the class embeddings' one-hot products,
// spectral normalization's power iteration, Glow's 1x1 weight from its LU
// factors) and the optimizer count nothing.
var macs atomic.Int64

// MACs returns the multiply-accumulates that the convolution and linear ops
// have counted since the process started. Take differences: the counter is
// shared by every graph that runs.
func MACs() int64 { return macs.Load() }

// macs is the multiply-accumulates of one pass of the direct convolution.
func (g convGeom) macs() int64 {
	return int64(g.B) * int64(g.O) * int64(g.Ho) * int64(g.Wo) * int64(g.C) * int64(g.K) * int64(g.K)
}
