package models

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
)

// glowNet adapts nets.Glow to the flow adapter.
type glowNet struct{ *nets.Glow }

func newGlow(cfg *config.Config, common config.Common) (Model, error) {
	var s struct {
		Levels      int     `mapstructure:"levels"`
		Steps       int     `mapstructure:"steps"`
		Hidden      int     `mapstructure:"hidden"`
		Alpha       float64 `mapstructure:"alpha"`
		Temperature float64 `mapstructure:"temperature"`
	}
	if err := cfg.Decode("glow", &s); err != nil {
		return nil, err
	}
	net, err := nets.NewGlow(nets.GlowConfig{Levels: s.Levels, Steps: s.Steps, Hidden: s.Hidden, Side: imageSide(common)}, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newFlow("glow", glowNet{net}, common, s.Alpha, s.Temperature)
}

func (n glowNet) params() []*graphs.Param    { return n.Params.List() }
func (n glowNet) trainable() []*graphs.Param { return n.Trainable() }
func (n glowNet) dims() int                  { return n.Dims() }

func (n glowNet) nll(batch int, init bool) ([]float32, *graphs.Bound, *G.Node, *G.Node, error) {
	g, err := n.BuildNLL(batch, init)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return g.X, g.Bound, g.NLL, g.Loss, nil
}

func (n glowNet) sampler(batch int) (*graphs.Bound, func(float64, *rand.Rand) error, *G.Node, error) {
	s, err := n.BuildSampler(batch)
	if err != nil {
		return nil, nil, nil, err
	}
	draw := func(t float64, rng *rand.Rand) error {
		fillScaledNormal(s.Top, t, rng)
		for _, e := range s.Eps {
			fillScaledNormal(e, t, rng)
		}
		return s.Fill() // the 1x1 convolutions' inverses of the current weights
	}
	return s.Bound, draw, s.X, nil
}
