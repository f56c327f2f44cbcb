package flow

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
)

// The two networks behind the flow adapter: each is a shim from its graphs
// builder to flowNet, with its registry entry and configuration section.

// realnvpNet adapts nets.RealNVP to the flow adapter.
type realnvpNet struct{ *nets.RealNVP }

// NewRealNVP builds RealNVP.
func NewRealNVP(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s struct {
		Layers      int     `mapstructure:"layers"`
		Hidden      int     `mapstructure:"hidden"`
		Alpha       float64 `mapstructure:"alpha"`
		Temperature float64 `mapstructure:"temperature"`
	}
	if err := cfg.Decode("realnvp", &s); err != nil {
		return nil, err
	}
	side := common.Data.ImageSide()
	net, err := nets.NewRealNVP(side*side, s.Hidden, s.Layers, models.InitRNG(common.Seed))
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

// glowNet adapts nets.Glow to the flow adapter.
type glowNet struct{ *nets.Glow }

// NewGlow builds Glow.
func NewGlow(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
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
	net, err := nets.NewGlow(nets.GlowConfig{Levels: s.Levels, Steps: s.Steps, Hidden: s.Hidden, Side: common.Data.ImageSide()}, models.InitRNG(common.Seed))
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
