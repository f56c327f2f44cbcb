package nets

import (
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

// NoiseGraph is a UNet placed on a graph of a fixed batch size, with the
// inputs a diffusion model feeds it: noisy images x_t, the sinusoidal
// embeddings of their timesteps, the one-hot class rows of a conditional
// network and, for training, the target to predict and each pixel's loss
// weight.
type NoiseGraph struct {
	Bound            *graphs.Bound
	XT, TSin, OneHot []float32
	Target, Weight   []float32 // training only, (B, In, Side, Side) each
	Pred             *G.Node   // the network's output, (B, In, Side, Side)
	Loss             *G.Node   // training only: mean(weight (target - pred)^2)
}

// BuildNoiseGraph places m on a new graph for batch images; with train it
// adds the target and weight inputs and the weighted squared error, which
// with eps as the target and unit weights is the DDPM simple loss (Ho et al.
// 2020, eq. 14). The weights are a full-size input rather than one per image
// because an elementwise product is the one broadcast Gorgonia's gradients
// get right without reshapes; they cost one image's worth of floats each.
func BuildNoiseGraph(m *UNet, batch int, train bool) (*NoiseGraph, error) {
	ng := &NoiseGraph{}
	err := graphs.Build("unet", func() {
		g := G.NewGraph()
		ng.Bound = graphs.Bind(g)
		var x, ts, oh *G.Node
		x, ng.XT = graphs.Input(g, "x_t", batch, m.In, m.Side, m.Side)
		ts, ng.TSin = graphs.Input(g, "t_embedding", batch, m.Ch)
		if m.Classes > 0 {
			oh, ng.OneHot = graphs.Input(g, "class_onehot", batch, m.Classes+1)
		}
		ng.Pred = m.Forward(ng.Bound, x, ts, oh)
		if train {
			var target, weight *G.Node
			target, ng.Target = graphs.Input(g, "target", batch, m.In, m.Side, m.Side)
			weight, ng.Weight = graphs.Input(g, "weight", batch, m.In, m.Side, m.Side)
			sq := must(G.Square(must(G.Sub(ng.Pred, target))))
			ng.Loss = must(G.Mean(must(G.HadamardProd(weight, sq))))
		}
	})
	return ng, err
}
