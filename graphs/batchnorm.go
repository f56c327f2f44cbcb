package graphs

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
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
	op := &batchNormOp{bn: bn, shape: s.Clone(), train: train}
	return must(G.ApplyOp(op, x, b.Node(bn.Weight, 1, bn.C), b.Node(bn.Bias, 1, bn.C)))
}

// batchNormOp computes y = gamma * (x - mean) / sqrt(var + eps) + beta per
// channel. grad selects a backward op instead: 1 for dx, 2 for dgamma, 3 for
// dbeta, each from (x, gamma, dy).
type batchNormOp struct {
	pureOp
	bn    *BatchNorm
	shape tensor.Shape
	train bool
	grad  int
}

// dims returns batch, channels and the size of the spatial axes.
func (op *batchNormOp) dims() (b, c, s int) {
	b, c, s = op.shape[0], op.shape[1], 1
	for _, d := range op.shape[2:] {
		s *= d
	}
	return
}

// stats returns the per-channel mean and 1/sqrt(var+eps) of x (the biased
// batch variance, as PyTorch normalizes with) and the unbiased variance for
// the running estimate.
func (op *batchNormOp) stats(x []float32) (mean, invStd, unbiased []float64) {
	b, c, s := op.dims()
	n := float64(b * s)
	mean, invStd, unbiased = make([]float64, c), make([]float64, c), make([]float64, c)
	for ch := 0; ch < c; ch++ {
		var sum, sq float64
		for i := 0; i < b; i++ {
			for _, v := range x[(i*c+ch)*s : (i*c+ch+1)*s] {
				sum += float64(v)
			}
		}
		m := sum / n
		for i := 0; i < b; i++ {
			for _, v := range x[(i*c+ch)*s : (i*c+ch+1)*s] {
				d := float64(v) - m
				sq += d * d
			}
		}
		mean[ch] = m
		invStd[ch] = 1 / math.Sqrt(sq/n+op.bn.Eps)
		unbiased[ch] = sq / math.Max(1, n-1)
	}
	return
}

func (op *batchNormOp) Arity() int { return 3 }
func (op *batchNormOp) Type() hm.Type {
	x := G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')}
	m := G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	if op.grad == 0 {
		return hm.NewFnType(x, m, m, x) // (x, gamma, beta) -> y
	}
	out := x
	if op.grad != 1 {
		out = m
	}
	return hm.NewFnType(x, m, x, out) // (x, gamma, dy) -> gradient
}
func (op *batchNormOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.grad == 2 || op.grad == 3 {
		return tensor.Shape{1, op.bn.C}, nil
	}
	return op.shape.Clone(), nil
}

func (op *batchNormOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := float32Data(vals[0])
	if err != nil {
		return nil, fmt.Errorf("batchnorm: %w", err)
	}
	gamma, err := float32Data(vals[1])
	if err != nil {
		return nil, fmt.Errorf("batchnorm: %w", err)
	}
	if op.grad != 0 {
		dy, err := float32Data(vals[2])
		if err != nil {
			return nil, fmt.Errorf("batchnorm: %w", err)
		}
		return op.backward(x, gamma, dy), nil
	}
	beta, err := float32Data(vals[2])
	if err != nil {
		return nil, fmt.Errorf("batchnorm: %w", err)
	}
	b, c, s := op.dims()
	var mean, invStd []float64
	if op.train {
		var unbiased []float64
		mean, invStd, unbiased = op.stats(x)
		// The running statistics move as PyTorch's do, once per training
		// forward pass.
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
	out := newOutput(op.shape)
	y := out.Data().([]float32)
	for i := 0; i < b; i++ {
		for ch := 0; ch < c; ch++ {
			scale := float32(float64(gamma[ch]) * invStd[ch])
			shift := beta[ch] - float32(mean[ch])*scale
			lo := (i*c + ch) * s
			for j, v := range x[lo : lo+s] {
				y[lo+j] = v*scale + shift
			}
		}
	}
	return out, nil
}

// backward computes one of dx, dgamma, dbeta for the training-mode forward:
// with xhat = (x - mean) * invStd and N = B*S,
// dx = gamma * invStd / N * (N dy - sum(dy) - xhat * sum(dy xhat)),
// dgamma = sum(dy xhat), dbeta = sum(dy), sums per channel.
func (op *batchNormOp) backward(x, gamma, dy []float32) *tensor.Dense {
	b, c, s := op.dims()
	mean, invStd, _ := op.stats(x)
	sumDy, sumDyXhat := make([]float64, c), make([]float64, c)
	for i := 0; i < b; i++ {
		for ch := 0; ch < c; ch++ {
			lo := (i*c + ch) * s
			for j := lo; j < lo+s; j++ {
				xhat := (float64(x[j]) - mean[ch]) * invStd[ch]
				sumDy[ch] += float64(dy[j])
				sumDyXhat[ch] += float64(dy[j]) * xhat
			}
		}
	}
	out, dst := outputOf(op)
	switch op.grad {
	case 2:
		for ch := range dst {
			dst[ch] = float32(sumDyXhat[ch])
		}
	case 3:
		for ch := range dst {
			dst[ch] = float32(sumDy[ch])
		}
	default:
		n := float64(b * s)
		for i := 0; i < b; i++ {
			for ch := 0; ch < c; ch++ {
				k := float64(gamma[ch]) * invStd[ch] / n
				lo := (i*c + ch) * s
				for j := lo; j < lo+s; j++ {
					xhat := (float64(x[j]) - mean[ch]) * invStd[ch]
					dst[j] = float32(k * (n*float64(dy[j]) - sumDy[ch] - xhat*sumDyXhat[ch]))
				}
			}
		}
	}
	return out
}

func (op *batchNormOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "BatchNorm(%p,%v,%v,%d)", op.bn, op.shape, op.train, op.grad)
}
func (op *batchNormOp) Hashcode() uint32 { return hashOf(op) }
func (op *batchNormOp) String() string {
	return fmt.Sprintf("BatchNorm(train=%v,grad=%d)", op.train, op.grad)
}
func (op *batchNormOp) DiffWRT(int) []bool {
	d := op.grad == 0 && op.train
	return []bool{d, d, d}
}
func (op *batchNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.train || op.grad != 0 {
		return nil, fmt.Errorf("batchnorm: only the training forward pass is differentiable")
	}
	var out G.Nodes
	for which := 1; which <= 3; which++ {
		n, err := G.ApplyOp(&batchNormOp{bn: op.bn, shape: op.shape, train: true, grad: which}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
