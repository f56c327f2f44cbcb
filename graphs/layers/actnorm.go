package layers

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

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

// Inverse undoes Forward.
func (a *ActNorm) Inverse(b *graphs.Bound, y *G.Node) *G.Node {
	return ops.ActNormInverse(y, b.Node(a.Bias, 1, a.C), b.Node(a.Logs, 1, a.C))
}
