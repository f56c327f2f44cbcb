package layers

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// The normalization layers: BatchNorm and GroupNorm, PyTorch's, and Glow's
// ActNorm.

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

// GroupNorm is PyTorch's nn.GroupNorm(groups, C) on (B, C, H, W): each
// image's channels are split into groups normalized by their own mean and
// variance (no batch statistics, so training and sampling agree), then
// scaled and shifted per channel by weight (1) and bias (0).
//
// It is the project's own op (ops.GroupNorm): Gorgonia's GroupNorm logs
// every backward call through the log package, which costs ten times the op
// itself.
type GroupNorm struct {
	Groups, C    int
	Eps          float64
	Weight, Bias *graphs.Param
}

// NewGroupNorm adds name.weight (ones) and name.bias (zeros) to ps.
func NewGroupNorm(ps *graphs.ParamSet, name string, groups, c int) *GroupNorm {
	if groups <= 0 || c%groups != 0 {
		graphs.Fail(fmt.Errorf("groupnorm %s: %d channels do not split into %d groups", name, c, groups))
	}
	gn := &GroupNorm{Groups: groups, C: c, Eps: 1e-5, Weight: ps.Add(name+".weight", c), Bias: ps.Add(name+".bias", c)}
	for i := range gn.Weight.Data {
		gn.Weight.Data[i] = 1
	}
	return gn
}

// Forward normalizes x of shape (B, C, H, W).
func (gn *GroupNorm) Forward(b *graphs.Bound, x *G.Node) *G.Node {
	s := x.Shape()
	if len(s) != 4 || s[1] != gn.C {
		graphs.Fail(fmt.Errorf("groupnorm: input %v has no %d channels on axis 1", s, gn.C))
	}
	return ops.GroupNorm(x, b.Node(gn.Weight, 1, gn.C), b.Node(gn.Bias, 1, gn.C), gn.Groups, gn.Eps)
}

// ActNorm is Glow's per-channel affine normalization, y = (x + bias)
// exp(logs), initialized from the first training batch so that its output
// has zero mean and unit variance per channel; "initialized" is a buffer
// saved with the weights, so a resumed run does not initialize again.
type ActNorm struct {
	C                       int
	Bias, Logs, Initialized *graphs.Param
}

// NewActNorm adds name.bias, name.logs and name.initialized to ps.
func NewActNorm(ps *graphs.ParamSet, name string, c int) *ActNorm {
	return &ActNorm{C: c, Bias: ps.Add(name+".bias", c), Logs: ps.Add(name+".logs", c), Initialized: ps.Add(name + ".initialized")}
}

// InitFrom implements ops.ActNormInit: unless the layer is initialized, it sets
// bias and logs from the per-channel statistics of x (batch b, c channels of
// hw pixels), so that the layer's output has zero mean and unit variance per
// channel.
func (a *ActNorm) InitFrom(x []float32, b, c, hw int) {
	if a.Initialized.Data[0] != 0 {
		return
	}
	n := float64(b * hw)
	for ch := range c {
		var sum, sq float64
		for i := range b {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
		}
		mean := sum / n
		std := math.Sqrt(math.Max(0, sq/n-mean*mean))
		a.Bias.Data[ch] = float32(-mean)
		a.Logs.Data[ch] = float32(-math.Log(std + 1e-6))
	}
	a.Initialized.Data[0] = 1
}

// Forward applies the layer; with init, the first run initializes it from
// its input if it is not initialized yet. It returns y and the layer's
// log-determinant for one image, H W sum(logs) (a scalar).
func (a *ActNorm) Forward(b *graphs.Bound, x *G.Node, init bool) (y, logDet *G.Node) {
	var initializer ops.ActNormInit
	if init {
		initializer = a
	}
	logs := b.Node(a.Logs, 1, a.C)
	y = ops.ActNorm(x, b.Node(a.Bias, 1, a.C), logs, initializer)
	s := x.Shape()
	return y, must(G.HadamardProd(must(G.Sum(logs)), G.NewConstant(float32(s[2]*s[3]))))
}

// NormalizeReLU is ReLU(Forward) without the log-determinant, in one op
// (ops.ActNormReLU): ActNorm as the pre-activation normalization inside a
// network (a RealNVP coupling's ResNet) rather than a flow step of its own.
func (a *ActNorm) NormalizeReLU(b *graphs.Bound, x *G.Node, init bool) *G.Node {
	var initializer ops.ActNormInit
	if init {
		initializer = a
	}
	return ops.ActNormReLU(x, b.Node(a.Bias, 1, a.C), b.Node(a.Logs, 1, a.C), initializer)
}

// Inverse undoes Forward.
func (a *ActNorm) Inverse(b *graphs.Bound, y *G.Node) *G.Node {
	return ops.ActNormInverse(y, b.Node(a.Bias, 1, a.C), b.Node(a.Logs, 1, a.C))
}
