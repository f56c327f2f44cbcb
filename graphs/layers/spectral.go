package layers

import (
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// SpectralNorm divides a weight by an estimate of its largest singular value
// (Miyato et al. 2018), as torch.nn.utils.spectral_norm does: the weight is
// seen as a matrix of Rows = its first dimension and Cols = the product of
// the others (for a convolution (out, in, k, k): out x in*k*k), and
// sigma = u^T W v with u, v kept from one power-iteration step per training
// forward pass. u and v are buffers (name.weight_u, name.weight_v), saved in
// checkpoints but not trained. A Linear or Conv2d applies it when its SN
// field is set, its weight named name.weight_orig as PyTorch renames it.
type SpectralNorm struct {
	W, U, V    *graphs.Param
	Rows, Cols int
}

// NewSpectralNorm adds the power-iteration vectors of w (whose name must end
// in ".weight_orig") to ps, drawn as PyTorch does: normalized N(0, 1).
func NewSpectralNorm(ps *graphs.ParamSet, prefix string, w *graphs.Param, rng *rand.Rand) *SpectralNorm {
	rows := w.Shape[0]
	cols := len(w.Data) / rows
	sn := &SpectralNorm{W: w, U: ps.Add(prefix+".weight_u", rows), V: ps.Add(prefix+".weight_v", cols), Rows: rows, Cols: cols}
	fillUnitNormal(sn.U.Data, rng)
	fillUnitNormal(sn.V.Data, rng)
	return sn
}

// weightOf is w's node as a layer uses it: w itself without normalization
// (a nil sn), else W / sigma with W's shape. u and v enter as constants, so
// the gradient flows through W both directly and through sigma, as in
// PyTorch.
func (sn *SpectralNorm) weightOf(b *graphs.Bound, w0 *graphs.Param) *G.Node {
	if sn == nil {
		return b.Node(w0)
	}
	w := b.Node(sn.W)
	flat := w
	if len(sn.W.Shape) != 2 {
		flat = ops.Reshape(w, sn.Rows, sn.Cols)
	}
	uv := must(G.Mul(b.Node(sn.U, sn.Rows, 1), b.Node(sn.V, 1, sn.Cols)))
	sigma := must(G.Sum(must(G.HadamardProd(flat, uv))))
	return must(G.HadamardProd(w, must(G.Inverse(sigma))))
}

// Step advances the estimate by one power iteration, as PyTorch does before
// every training-mode forward pass:
// v = W^T u / |W^T u|, u = W v / |W v|.
func (sn *SpectralNorm) Step() {
	u, v, w := sn.U.Data, sn.V.Data, sn.W.Data
	clear(v)
	for o, uo := range u {
		row := w[o*sn.Cols : (o+1)*sn.Cols]
		for j, x := range row {
			v[j] += x * uo
		}
	}
	normalize(v)
	for o := range u {
		row := w[o*sn.Cols : (o+1)*sn.Cols]
		var s float32
		for j, x := range row {
			s += x * v[j]
		}
		u[o] = s
	}
	normalize(u)
}

func fillUnitNormal(v []float32, rng *rand.Rand) {
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	normalize(v)
}

// normalize scales v to unit length (PyTorch's eps 1e-12 guards zero).
func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Max(math.Sqrt(s), 1e-12))
	for i := range v {
		v[i] /= n
	}
}
