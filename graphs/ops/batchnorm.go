package ops

import (
	"fmt"
	"hash"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/vec32"
)

// BatchNormStats is what a batch normalization keeps across batches, in
// PyTorch's buffers: the running mean and variance, which a training forward
// pass moves by Momentum and an evaluation pass normalizes with, and the
// number of training batches seen. The op reads Momentum and Eps when it
// runs, so a change between runs applies to the next run.
type BatchNormStats struct {
	Momentum, Eps     float64
	RunningMean       *graphs.Param
	RunningVar        *graphs.Param
	NumBatchesTracked *graphs.Param // a count, stored as a float (checkpoints are F32)
}

// BatchNorm is PyTorch's F.batch_norm over axis 1 of x, (B, C) or
// (B, C, H, W): y = gamma * (x - mean) / sqrt(var + eps) + beta per channel,
// gamma and beta (1, C). With train it normalizes with the batch's
// statistics and moves the running ones in stats once per run; otherwise it
// normalizes with the running statistics and has no gradient.
//
// It is the project's own op rather than Gorgonia's BatchNorm, whose running
// statistics live inside the op object (so they cannot be checkpointed), and
// whose EvalMode flips the op shared by every machine of a graph.
func BatchNorm(x, gamma, beta *G.Node, stats *BatchNormStats, train bool) *G.Node {
	s := x.Shape()
	if len(s) < 2 || s[1] != len(stats.RunningMean.Data) {
		failf("batchnorm: input %v has no %d channels on axis 1", s, len(stats.RunningMean.Data))
	}
	op := &batchNormOp{normBase: normBase{shape: s.Clone(), saved: new(normSaved)}, run: stats, train: train}
	return must(G.ApplyOp(op, x, gamma, beta))
}

// batchNormOp computes y = gamma * (x - mean) / sqrt(var + eps) + beta per
// channel. grad selects one of the three backward ops instead (1 dx, 2
// dgamma, 3 dbeta), which share one pass over the data as normOp describes.
type batchNormOp struct {
	normBase // saved.mean and saved.invStd: the training forward pass's, per channel
	run      *BatchNormStats
	train    bool
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
			invStd[ch] = 1 / math.Sqrt(v+op.run.Eps)
			unbiased[ch] = v * n / math.Max(1, n-1)
		}
	})
	return
}

func (op *batchNormOp) Do(vals ...G.Value) (G.Value, error) {
	return doNorm(op, "batchnorm", op.grad, vals)
}

func (op *batchNormOp) haveStats() bool { return len(op.saved.mean) == op.shape[1] }
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
		m := op.run.Momentum
		for ch := 0; ch < c; ch++ {
			rm, rv := &op.run.RunningMean.Data[ch], &op.run.RunningVar.Data[ch]
			*rm = float32((1-m)*float64(*rm) + m*mean[ch])
			*rv = float32((1-m)*float64(*rv) + m*unbiased[ch])
		}
		op.run.NumBatchesTracked.Data[0]++
	} else {
		mean, invStd = make([]float64, c), make([]float64, c)
		for ch := 0; ch < c; ch++ {
			mean[ch] = float64(op.run.RunningMean.Data[ch])
			invStd[ch] = 1 / math.Sqrt(float64(op.run.RunningVar.Data[ch])+op.run.Eps)
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
	fmt.Fprintf(h, "BatchNorm(%p,%v,%v,%d,%p)", op.run, op.shape, op.train, op.grad, op.saved)
}
func (op *batchNormOp) Hashcode() uint32 { return hashOf(op) }
func (op *batchNormOp) String() string {
	return fmt.Sprintf("BatchNorm(train=%v,grad=%d)", op.train, op.grad)
}
func (op *batchNormOp) DiffWRT(n int) []bool { return diffAll(n, op.grad == 0 && op.train) }
func (op *batchNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.train || op.grad != 0 {
		return nil, fmt.Errorf("batchnorm: only the training forward pass is differentiable")
	}
	return symDiffNorm(op, inputs, output, grad)
}
