package graphs

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/genmodel/genmodel/internal/vec32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNorm is PyTorch's nn.BatchNorm1d/2d over axis 1 of (B, C) or
// (B, C, H, W) inputs, with its state_dict names: weight, bias,
// running_mean, running_var, num_batches_tracked.
//
// It is a project-owned op rather than Gorgonia's BatchNorm, whose running
// statistics live inside the op object (so they cannot be checkpointed), and
// whose EvalMode flips the op shared by every machine of a graph. Here the
// running statistics are parameters like any other, updated by the training
// forward pass and used by the evaluation one.
type BatchNorm struct {
	C                 int
	Momentum, Eps     float64
	Weight, Bias      *Param
	RunningMean       *Param
	RunningVar        *Param
	NumBatchesTracked *Param // a count, stored as a float (checkpoints are F32)
}

// NewBatchNorm adds name.weight (initialized from N(1, initStd) when
// initStd > 0, else 1), name.bias (0) and the running statistics to ps.
func NewBatchNorm(ps *ParamSet, name string, c int, initStd float64, rng interface{ NormFloat64() float64 }) *BatchNorm {
	bn := &BatchNorm{C: c, Momentum: 0.1, Eps: 1e-5,
		Weight: ps.Add(name+".weight", c), Bias: ps.Add(name+".bias", c),
		RunningMean: ps.Add(name+".running_mean", c), RunningVar: ps.Add(name+".running_var", c),
		NumBatchesTracked: ps.Add(name + ".num_batches_tracked")}
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
func (bn *BatchNorm) Trainable() []*Param { return []*Param{bn.Weight, bn.Bias} }

// Forward normalizes x with the batch's statistics (train, updating the
// running ones) or with the running statistics (evaluation).
func (bn *BatchNorm) Forward(b *Bound, x *G.Node, train bool) *G.Node {
	s := x.Shape()
	if len(s) < 2 || s[1] != bn.C {
		panic(graphError{fmt.Errorf("batchnorm: input %v has no %d channels on axis 1", s, bn.C)})
	}
	op := &batchNormOp{bn: bn, shape: s.Clone(), train: train, saved: new(batchNormSaved)}
	return must(G.ApplyOp(op, x, b.Node(bn.Weight, 1, bn.C), b.Node(bn.Bias, 1, bn.C)))
}

// batchNormOp computes y = gamma * (x - mean) / sqrt(var + eps) + beta per
// channel. grad selects one of the three backward ops instead (1 dx, 2
// dgamma, 3 dbeta), which share one pass over the data as normOp describes.
type batchNormOp struct {
	pureOp
	bn    *BatchNorm
	shape tensor.Shape
	train bool
	grad  int
	// saved is shared by one forward node and its backward nodes.
	saved *batchNormSaved
}

type batchNormSaved struct {
	mean, invStd  []float64 // the training forward pass's, per channel
	dgamma, dbeta []float32
}

// dims returns batch, channels and the size of the spatial axes.
func (op *batchNormOp) dims() (b, c, s int) {
	b, c, s = op.shape[0], op.shape[1], 1
	for _, d := range op.shape[2:] {
		s *= d
	}
	return
}

// channelsAtOnce is parallelFor's threshold in channels for this shape.
func (op *batchNormOp) channelsAtOnce() int {
	b, _, s := op.dims()
	return max(1, elementwiseMin/(b*s))
}

// stats returns the per-channel mean and 1/sqrt(var+eps) of x (the biased
// batch variance, as PyTorch normalizes with) and the unbiased variance for
// the running estimate, from one pass of float64 sums (var = E[x^2] -
// E[x]^2 loses nothing at float32 inputs' precision).
func (op *batchNormOp) stats(x []float32) (mean, invStd, unbiased []float64) {
	b, c, s := op.dims()
	n := float64(b * s)
	mean, invStd, unbiased = make([]float64, c), make([]float64, c), make([]float64, c)
	parallelFor(c, op.channelsAtOnce(), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var sum, sq float64
			for i := 0; i < b; i++ {
				s1, q1 := vec32.SumSquares(x[(i*c+ch)*s : (i*c+ch+1)*s])
				sum += s1
				sq += q1
			}
			m := sum / n
			v := max(0, sq/n-m*m)
			mean[ch] = m
			invStd[ch] = 1 / math.Sqrt(v+op.bn.Eps)
			unbiased[ch] = v * n / math.Max(1, n-1)
		}
	})
	return
}

func (op *batchNormOp) Arity() int    { return normArity(op.grad) }
func (op *batchNormOp) Type() hm.Type { return normType(len(op.shape), op.grad) }
func (op *batchNormOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return normShape(op.shape, op.grad), nil
}

func (op *batchNormOp) Do(vals ...G.Value) (G.Value, error) {
	return doNorm(op, "batchnorm", op.grad, vals)
}

func (op *batchNormOp) haveStats() bool { return len(op.saved.mean) == op.bn.C }
func (op *batchNormOp) savedGrads() (dgamma, dbeta []float32) {
	return op.saved.dgamma, op.saved.dbeta
}
func (op *batchNormOp) withGrad(grad int) normOp {
	back := *op
	back.grad = grad
	return &back
}

// forward writes y, normalizing with the batch's statistics (kept for the
// backward pass, and moving the running ones as PyTorch does, once per
// training forward pass) or with the running statistics.
func (op *batchNormOp) forward(x, gamma, beta, y []float32) {
	b, c, s := op.dims()
	var mean, invStd []float64
	if op.train {
		var unbiased []float64
		mean, invStd, unbiased = op.stats(x)
		op.saved.mean, op.saved.invStd = mean, invStd
		m := op.bn.Momentum
		for ch := 0; ch < c; ch++ {
			rm, rv := &op.bn.RunningMean.Data[ch], &op.bn.RunningVar.Data[ch]
			*rm = float32((1-m)*float64(*rm) + m*mean[ch])
			*rv = float32((1-m)*float64(*rv) + m*unbiased[ch])
		}
		op.bn.NumBatchesTracked.Data[0]++
	} else {
		mean, invStd = make([]float64, c), make([]float64, c)
		for ch := 0; ch < c; ch++ {
			mean[ch] = float64(op.bn.RunningMean.Data[ch])
			invStd[ch] = 1 / math.Sqrt(float64(op.bn.RunningVar.Data[ch])+op.bn.Eps)
		}
	}
	parallelFor(c, op.channelsAtOnce(), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			scale := float32(float64(gamma[ch]) * invStd[ch])
			shift := beta[ch] - float32(mean[ch])*scale
			for i := 0; i < b; i++ {
				at := (i*c + ch) * s
				vec32.Affine(x[at:at+s], y[at:at+s], scale, shift)
			}
		}
	})
}

// backward writes dx and saves dgamma and dbeta: with xhat = (x - mean) *
// invStd and N = B*S,
// dx = gamma * invStd / N * (N dy - sum(dy) - xhat * sum(dy xhat)),
// dgamma = sum(dy xhat), dbeta = sum(dy), sums per channel.
func (op *batchNormOp) backward(x, gamma, dy, dx []float32) {
	b, c, s := op.dims()
	sv := op.saved
	if len(sv.dgamma) != c {
		sv.dgamma, sv.dbeta = make([]float32, c), make([]float32, c)
	}
	n := float64(b * s)
	parallelFor(c, op.channelsAtOnce(), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			m, inv := sv.mean[ch], sv.invStd[ch]
			var sumDy, sumDyXc float64
			for i := 0; i < b; i++ {
				at := (i*c + ch) * s
				sd, sdx := vec32.SumCentered(dy[at:at+s], x[at:at+s], m)
				sumDy += sd
				sumDyXc += sdx
			}
			sumDyXhat := sumDyXc * inv
			sv.dgamma[ch], sv.dbeta[ch] = float32(sumDyXhat), float32(sumDy)
			// dx = a dy + bx (x - mean) + c0, in float32 for speed.
			k := float64(gamma[ch]) * inv / n
			a, bx, c0, mf := float32(k*n), float32(-k*sumDyXhat*inv), float32(-k*sumDy), float32(m)
			for i := 0; i < b; i++ {
				at := (i*c + ch) * s
				vec32.NormGrad(dy[at:at+s], x[at:at+s], dx[at:at+s], a, bx, mf, c0)
			}
		}
	})
}

func (op *batchNormOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "BatchNorm(%p,%v,%v,%d,%p)", op.bn, op.shape, op.train, op.grad, op.saved)
}
func (op *batchNormOp) Hashcode() uint32 { return hashOf(op) }
func (op *batchNormOp) String() string {
	return fmt.Sprintf("BatchNorm(train=%v,grad=%d)", op.train, op.grad)
}
func (op *batchNormOp) DiffWRT(n int) []bool {
	d := op.grad == 0 && op.train
	out := make([]bool, n)
	for i := range out {
		out[i] = d
	}
	return out
}
func (op *batchNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.train || op.grad != 0 {
		return nil, fmt.Errorf("batchnorm: only the training forward pass is differentiable")
	}
	return symDiffNorm(op, inputs, output, grad)
}
