package models

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
)

// realnvpNet adapts nets.RealNVP to the flow adapter.
type realnvpNet struct{ *nets.RealNVP }

func newRealNVP(cfg *config.Config, common config.Common) (Model, error) {
	var s struct {
		Layers      int     `mapstructure:"layers"`
		Hidden      int     `mapstructure:"hidden"`
		Alpha       float64 `mapstructure:"alpha"`
		Temperature float64 `mapstructure:"temperature"`
	}
	if err := cfg.Decode("realnvp", &s); err != nil {
		return nil, err
	}
	side := imageSide(common)
	net, err := nets.NewRealNVP(side*side, s.Hidden, s.Layers, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newFlow("realnvp", realnvpNet{net}, common, s.Alpha, s.Temperature)
}

func (n realnvpNet) params() []*graphs.Param    { return n.Params.List() }
func (n realnvpNet) trainable() []*graphs.Param { return n.Trainable() }
func (n realnvpNet) dims() int                  { return n.D }

func (n realnvpNet) nll(batch int, _ bool) ([]float32, *graphs.Bound, *G.Node, *G.Node, error) {
	if err := n.CheckMasks(); err != nil {
		return nil, nil, nil, nil, err
	}
	g, err := n.BuildNLL(batch)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return g.X, g.Bound, g.NLL, g.Loss, nil
}

func (n realnvpNet) sampler(batch int) (*graphs.Bound, func(float64, *rand.Rand) error, *G.Node, error) {
	b, z, x, err := n.BuildInverse(batch)
	draw := func(t float64, rng *rand.Rand) error {
		fillScaledNormal(z, t, rng)
		return nil
	}
	return b, draw, x, err
}
