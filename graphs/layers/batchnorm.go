package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// BatchNorm is PyTorch's nn.BatchNorm1d/2d over axis 1 of (B, C) or
// (B, C, H, W) inputs, with its state_dict names: weight, bias,
// running_mean, running_var, num_batches_tracked.
//
// It is the project's own op (ops.BatchNorm) rather than Gorgonia's, whose
// running statistics live inside the op object (so they cannot be
// checkpointed), and whose EvalMode flips the op shared by every machine of
// a graph. Here the running statistics are parameters like any other,
// updated by the training forward pass and used by the evaluation one.
type BatchNorm struct {
	C            int
	Weight, Bias *graphs.Param
	// BatchNormStats holds Momentum, Eps and the running statistics, which
	// the op reads and a training forward pass updates.
	ops.BatchNormStats
}

// NewBatchNorm adds name.weight (initialized from N(1, initStd) when
// initStd > 0, else 1), name.bias (0) and the running statistics to ps.
func NewBatchNorm(ps *graphs.ParamSet, name string, c int, initStd float64, rng interface{ NormFloat64() float64 }) *BatchNorm {
	bn := &BatchNorm{C: c, Weight: ps.Add(name+".weight", c), Bias: ps.Add(name+".bias", c),
		BatchNormStats: ops.BatchNormStats{Momentum: 0.1, Eps: 1e-5,
			RunningMean: ps.Add(name+".running_mean", c), RunningVar: ps.Add(name+".running_var", c),
			NumBatchesTracked: ps.Add(name + ".num_batches_tracked")}}
	for i := range bn.Weight.Data {
		bn.Weight.Data[i] = 1
		if initStd > 0 {
			bn.Weight.Data[i] = float32(1 + initStd*rng.NormFloat64())
		}
		bn.RunningVar.Data[i] = 1
	}
	return bn
}

// Trainable returns the parameters an optimizer updates (not the running
// statistics).
func (bn *BatchNorm) Trainable() []*graphs.Param { return []*graphs.Param{bn.Weight, bn.Bias} }

// Forward normalizes x with the batch's statistics (train, updating the
// running ones) or with the running statistics (evaluation).
func (bn *BatchNorm) Forward(b *graphs.Bound, x *G.Node, train bool) *G.Node {
	s := x.Shape()
	if len(s) < 2 || s[1] != bn.C {
		graphs.Fail(fmt.Errorf("batchnorm: input %v has no %d channels on axis 1", s, bn.C))
	}
	return ops.BatchNorm(x, b.Node(bn.Weight, 1, bn.C), b.Node(bn.Bias, 1, bn.C), &bn.BatchNormStats, train)
}
