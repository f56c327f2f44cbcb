package ops

import (
	"fmt"
	"hash"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/internal/vec32"
)

// GroupNorm is PyTorch's F.group_norm on x (B, C, H, W): each image's
// channels are split into groups normalized by their own mean and variance
// (eps added to the variance), then scaled by gamma and shifted by beta per
// channel, both (1, C). It is the project's own op because Gorgonia's
// GroupNorm logs every backward call through the log package, which costs
// ten times the op itself.
func GroupNorm(x, gamma, beta *G.Node, groups int, eps float64) *G.Node {
	s := x.Shape()
	if len(s) != 4 || groups <= 0 || s[1]%groups != 0 {
		failf("groupnorm: input %v does not split into %d groups on axis 1", s, groups)
	}
	op := groupNormOp{normBase: normBase{shape: s.Clone(), saved: new(normSaved)}, groups: groups, eps: eps}
	return must(G.ApplyOp(op, x, gamma, beta))
}

// groupNormOp computes y = gamma * (x - mean_g) / sqrt(var_g + eps) + beta.
// Its backward is three ops sharing one pass over the data, as normOp
// describes.
type groupNormOp struct {
	normBase // saved.mean and saved.invStd: per (image, group), image*groups + group
	groups   int
	eps      float64
}

// dims returns the batch, channels, channels per group and pixels per channel.
func (op groupNormOp) dims() (b, c, cg, s int) {
	b, c, s = op.shape[0], op.shape[1], op.shape[2]*op.shape[3]
	return b, c, c / op.groups, s
}

// imagesAtOnce is parallelFor's threshold in images for this shape.
func (op groupNormOp) imagesAtOnce() int {
	_, c, _, s := op.dims()
	return max(1, elementwiseMin/(c*s))
}

func (op groupNormOp) Do(vals ...G.Value) (G.Value, error) {
	return doNorm(op, "groupnorm", op.grad, vals)
}

func (op groupNormOp) haveStats() bool { return len(op.saved.mean) == op.shape[0]*op.groups }
func (op groupNormOp) withGrad(grad int) normOp {
	op.grad = grad
	return op
}

// forward computes each (image, group)'s mean and variance in one pass of
// float64 sums (var = E[x^2] - E[x]^2 loses nothing at float32 inputs'
// precision), keeps them for the backward pass, and writes y.
func (op groupNormOp) forward(x, gamma, beta, y []float32) {
	b, c, cg, s := op.dims()
	sv := op.saved
	n := b * op.groups
	if len(sv.mean) != n {
		sv.mean, sv.invStd = make([]float64, n), make([]float64, n)
	}
	size := cg * s
	parallelFor(b, op.imagesAtOnce(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for grp := range op.groups {
				k := i*op.groups + grp
				sum, sq := vec32.SumSquares(x[k*size : (k+1)*size])
				m := sum / float64(size)
				sv.mean[k] = m
				sv.invStd[k] = 1 / math.Sqrt(max(0, sq/float64(size)-m*m)+op.eps)
			}
			for ch := range c {
				k := i*op.groups + ch/cg
				scale := float32(float64(gamma[ch]) * sv.invStd[k])
				shift := beta[ch] - float32(sv.mean[k])*scale
				lo := (i*c + ch) * s
				vec32.Affine(x[lo:lo+s], y[lo:lo+s], scale, shift)
			}
		}
	})
}

// backward writes dx and saves dgamma and dbeta. With g = dy*gamma and xhat
// normalized over a group of n values,
// dx = invStd / n * (n g - sum(g) - xhat sum(g xhat)), sums per group;
// dgamma = sum(dy xhat), dbeta = sum(dy) per channel over images and pixels.
func (op groupNormOp) backward(x, gamma, dy, dx []float32) {
	b, c, cg, s := op.dims()
	sv := op.saved
	// Per channel of each image: sum(dy) and sum(dy * xhat).
	sumDy, sumDyXhat := make([]float64, b*c), make([]float64, b*c)
	n := float64(cg * s)
	parallelFor(b, op.imagesAtOnce(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for ch := range c {
				k := i*op.groups + ch/cg
				m := sv.mean[k]
				at := (i*c + ch) * s
				sd, sdx := vec32.SumCentered(dy[at:at+s], x[at:at+s], m)
				sumDy[i*c+ch], sumDyXhat[i*c+ch] = sd, sdx*sv.invStd[k]
			}
			for grp := range op.groups {
				k := i*op.groups + grp
				var sg, sgx float64
				for ch := grp * cg; ch < (grp+1)*cg; ch++ {
					sg += float64(gamma[ch]) * sumDy[i*c+ch]
					sgx += float64(gamma[ch]) * sumDyXhat[i*c+ch]
				}
				inv, m := sv.invStd[k], sv.mean[k]
				// dx = a dy + bx (x - mean) + c0 per channel, in float32 for speed.
				bx, c0, mf := float32(-inv*inv*sgx/n), float32(-inv*sg/n), float32(m)
				for ch := grp * cg; ch < (grp+1)*cg; ch++ {
					a := float32(inv * float64(gamma[ch]))
					at := (i*c + ch) * s
					vec32.NormGrad(dy[at:at+s], x[at:at+s], dx[at:at+s], a, bx, mf, c0)
				}
			}
		}
	})
	if len(sv.dgamma) != c {
		sv.dgamma, sv.dbeta = make([]float32, c), make([]float32, c)
	}
	for ch := range c {
		var dg, db float64
		for i := range b {
			dg += sumDyXhat[i*c+ch]
			db += sumDy[i*c+ch]
		}
		sv.dgamma[ch], sv.dbeta[ch] = float32(dg), float32(db)
	}
}

func (op groupNormOp) WriteHash(h hash.Hash) {
	// The saved pointer belongs in the hash: two layers' dgamma ops of the
	// same shape must not be merged even if Gorgonia saw equal inputs.
	fmt.Fprintf(h, "GroupNorm(%d,%v,%v,%d,%p)", op.groups, op.eps, op.shape, op.grad, op.saved)
}
func (op groupNormOp) Hashcode() uint32 { return hashOf(op) }
func (op groupNormOp) String() string {
	return fmt.Sprintf("GroupNorm(%d,grad=%d)", op.groups, op.grad)
}
func (op groupNormOp) DiffWRT(n int) []bool { return diffAll(n, op.grad == 0) }
func (op groupNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return symDiffNorm(op, inputs, output, grad)
}
