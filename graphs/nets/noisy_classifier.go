package nets

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// NoisyClassifier is p(y | x_t, t), the classifier of classifier guidance
// (Dhariwal & Nichol 2021), trained on images noised by the diffusion
// model's forward process. The timestep enters as in UNet-S: a sinusoidal
// embedding through an MLP, added per channel after each convolution. As a
// PyTorch module:
//
//	temb  = Sequential(Linear(32, 128), SiLU())
//	conv1 = Conv2d(1, 32, 3, stride=2, padding=1);  + t1(temb); silu   28 -> 14
//	conv2 = Conv2d(32, 64, 3, stride=2, padding=1); + t2(temb); silu   14 -> 7
//	fc1   = Linear(64*7*7, 128); silu
//	fc2   = Linear(128, 10)
//
// SiLU rather than ReLU keeps grad_x log p(y | x_t, t), which guidance
// follows, smooth.
type NoisyClassifier struct {
	Params       *graphs.ParamSet
	TEmb, T1, T2 *layers.Linear
	Conv1, Conv2 *layers.Conv2d
	FC1, FC2     *layers.Linear
}

// NoisyClassifierTimeDim is the width of its sinusoidal time embedding.
const NoisyClassifierTimeDim = 32

// NewNoisyClassifier creates the network with PyTorch's default initialization.
func NewNoisyClassifier(rng *rand.Rand) *NoisyClassifier {
	ps := graphs.NewParamSet()
	return &NoisyClassifier{
		Params: ps,
		TEmb:   layers.NewLinear(ps, "temb.0", NoisyClassifierTimeDim, 128, rng),
		Conv1:  layers.NewConv2d(ps, "conv1", 1, 32, 3, 2, 1, rng),
		T1:     layers.NewLinear(ps, "t1", 128, 32, rng),
		Conv2:  layers.NewConv2d(ps, "conv2", 32, 64, 3, 2, 1, rng),
		T2:     layers.NewLinear(ps, "t2", 128, 64, rng),
		FC1:    layers.NewLinear(ps, "fc1", 64*7*7, 128, rng),
		FC2:    layers.NewLinear(ps, "fc2", 128, 10, rng),
	}
}

// Forward maps x_t (B, 1, 28, 28) and the timesteps' sinusoidal embeddings
// (B, 32) to class logits (B, 10).
func (c *NoisyClassifier) Forward(b *graphs.Bound, x, tsin *G.Node) *G.Node {
	batch := x.Shape()[0]
	te := ops.SiLU(c.TEmb.Forward(b, tsin))
	h := ops.SiLU(ops.AddPerChannel(c.Conv1.Forward(b, x), c.T1.Forward(b, te)))
	h = ops.SiLU(ops.AddPerChannel(c.Conv2.Forward(b, h), c.T2.Forward(b, te)))
	h = ops.SiLU(c.FC1.Forward(b, ops.Reshape(h, batch, 64*7*7)))
	return c.FC2.Forward(b, h)
}

// NoisyClassifierGraph is the classifier on a graph of one batch size, with
// its mean cross-entropy.
type NoisyClassifierGraph struct {
	Bound                 *graphs.Bound
	XT, TSin, OneHot      []float32
	Logits, LogProb, Loss *G.Node // LogProb: sum over the batch of log p(y_i | x_i)
	// Image is x_t bound as a parameter when the graph differentiates the
	// input (guidance): its gradient is grad_x sum_i log p(y_i | x_i, t).
	Image *graphs.Param
}

// BuildGraph builds the classifier for batch images. With wrtInput, x_t is
// a parameter the program differentiates (and the only one it needs to:
// compile with CompileWRT(..., []*Param{g.Image})), for guidance;
// otherwise it is an input and Loss trains the weights.
func (c *NoisyClassifier) BuildGraph(batch int, wrtInput bool) (*NoisyClassifierGraph, error) {
	ng := &NoisyClassifierGraph{}
	err := graphs.Build("noisy classifier", func() {
		g := G.NewGraph()
		ng.Bound = graphs.Bind(g)
		var x, ts, y *G.Node
		if wrtInput {
			ng.Image = &graphs.Param{Name: "x_t", Shape: []int{batch, 1, 28, 28}, Data: make([]float32, batch*784)}
			x, ng.XT = ng.Bound.Node(ng.Image), ng.Image.Data
		} else {
			x, ng.XT = graphs.Input(g, "x_t", batch, 1, 28, 28)
		}
		ts, ng.TSin = graphs.Input(g, "t_embedding", batch, NoisyClassifierTimeDim)
		y, ng.OneHot = graphs.Input(g, "onehot", batch, 10)
		ng.Logits = c.Forward(ng.Bound, x, ts)
		ng.LogProb = must(G.Sum(must(G.HadamardProd(ops.LogSoftmax(ng.Logits), y))))
		ng.Loss = must(G.HadamardProd(ng.LogProb, scalar(-1/float32(batch))))
	})
	return ng, err
}
