package nets

import (
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

// NoiseGraph is a UNet placed on a graph of a fixed batch size, with the
// inputs a diffusion model feeds it: noisy images x_t, the sinusoidal
// embeddings of their timesteps, the one-hot class rows of a conditional
// network and, for training, the noise to predict.
type NoiseGraph struct {
	Bound            *graphs.Bound
	XT, TSin, OneHot []float32
	Eps              []float32 // training only
	Pred             *G.Node   // eps_theta(x_t, t), (B, 1, Side, Side)
	Loss             *G.Node   // training only: mean((eps - eps_theta)^2)
}

// BuildNoiseGraph places m on a new graph for batch images; with train it
// adds the noise input and the DDPM simple loss (Ho et al. 2020, eq. 14).
func BuildNoiseGraph(m *UNet, batch int, train bool) (*NoiseGraph, error) {
	ng := &NoiseGraph{}
	err := graphs.Build("unet", func() {
		g := G.NewGraph()
		ng.Bound = graphs.Bind(g)
		var x, ts, oh *G.Node
		x, ng.XT = graphs.Input(g, "x_t", batch, 1, m.Side, m.Side)
		ts, ng.TSin = graphs.Input(g, "t_embedding", batch, m.Ch)
		if m.Classes > 0 {
			oh, ng.OneHot = graphs.Input(g, "class_onehot", batch, m.Classes+1)
		}
		ng.Pred = m.Forward(ng.Bound, x, ts, oh)
		if train {
			var eps *G.Node
			eps, ng.Eps = graphs.Input(g, "eps", batch, 1, m.Side, m.Side)
			ng.Loss = must(G.Mean(must(G.Square(must(G.Sub(ng.Pred, eps))))))
		}
	})
	return ng, err
}
