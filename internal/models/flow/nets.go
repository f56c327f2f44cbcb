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

// The networks behind the flow adapter: each is a shim from its graphs
// builder to flowNet; the registry entries build them from their
// configuration sections (realnvp's two architectures from one).

// realnvpNet adapts nets.RealNVP (realnvp.arch mlp) to the flow adapter.
type realnvpNet struct{ *nets.RealNVP }

// realnvpSection is the realnvp section of the configuration.
type realnvpSection struct {
	Arch        string  `mapstructure:"arch"`
	Layers      int     `mapstructure:"layers"`
	Hidden      int     `mapstructure:"hidden"`
	Scales      int     `mapstructure:"scales"`
	Channels    int     `mapstructure:"channels"`
	Blocks      int     `mapstructure:"blocks"`
	Alpha       float64 `mapstructure:"alpha"`
	Temperature float64 `mapstructure:"temperature"`
}

// NewRealNVP builds RealNVP: the MLP couplings of flow_ref.py (arch mlp)
// or Dinh et al.'s multi-scale convolutional flow (arch multiscale).
func NewRealNVP(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s realnvpSection
	if err := cfg.Decode("realnvp", &s); err != nil {
		return nil, err
	}
	side := common.Data.ImageSide()
	var net flowNet
	switch s.Arch {
	case "mlp":
		mlp, err := nets.NewRealNVP(side*side, s.Hidden, s.Layers, models.InitRNG(common.Seed))
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		net = realnvpNet{mlp}
	case "multiscale":
		ms, err := newMultiscale(s, side, common.Seed)
		if err != nil {
			return nil, err
		}
		net = multiscaleNet{ms}
	default:
		return nil, fmt.Errorf("config: realnvp.arch must be mlp or multiscale, got %q", s.Arch)
	}
	return newFlow("realnvp", net, common, s.Alpha, s.Temperature)
}

// newMultiscale checks the multiscale keys, naming them, and builds the
// network.
func newMultiscale(s realnvpSection, side int, seed uint64) (*nets.RealNVPMultiscale, error) {
	switch {
	case s.Scales < 1:
		return nil, fmt.Errorf("config: realnvp.scales must be at least 1, got %d", s.Scales)
	case s.Channels < 1:
		return nil, fmt.Errorf("config: realnvp.channels must be at least 1, got %d", s.Channels)
	case s.Blocks < 1:
		return nil, fmt.Errorf("config: realnvp.blocks must be at least 1, got %d", s.Blocks)
	case s.Scales > 16:
		return nil, fmt.Errorf("config: realnvp.scales must be at most 16, got %d", s.Scales)
	case side%(1<<(s.Scales-1)) != 0 || side>>(s.Scales-1) < 2:
		return nil, fmt.Errorf("config: realnvp.scales %d squeezes the image %d times: data.image_size (%d) must be divisible by %d and the final scale at least 2x2",
			s.Scales, s.Scales-1, side, 1<<(s.Scales-1))
	}
	return nets.NewRealNVPMultiscale(nets.RealNVPMultiscaleConfig{Side: side, Scales: s.Scales, Channels: s.Channels, Blocks: s.Blocks}, models.InitRNG(seed))
}

func (n realnvpNet) params() []*graphs.Param      { return n.Params.List() }
func (n realnvpNet) trainable() []*graphs.Param   { return n.Trainable() }
func (n realnvpNet) dims() int                    { return n.D }
func (n realnvpNet) evalBatch(configured int) int { return configured }

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

// multiscaleNet adapts nets.RealNVPMultiscale (realnvp.arch multiscale) to
// the flow adapter.
type multiscaleNet struct{ *nets.RealNVPMultiscale }

func (n multiscaleNet) params() []*graphs.Param    { return n.Params.List() }
func (n multiscaleNet) trainable() []*graphs.Param { return n.Trainable() }
func (n multiscaleNet) dims() int                  { return n.Dims() }

// evalBatch caps the test graph's batch so that its activations, which
// the graph keeps for the whole run, take about 1 GiB: each coupling's
// ResNet holds 2 + 5 blocks maps of `channels` at its pixels, and the
// measured total is 2.5 times that (7.5 GB at batch 1000 for 16 channels
// and 2 blocks). The cap is rounded down to a divisor of the 10000 test
// images, so that all of them count.
func (n multiscaleNet) evalBatch(configured int) int {
	var floats int // activations per image
	for _, sc := range n.Scales {
		floats += len(sc.Checker)*sc.Side*sc.Side + len(sc.Channel)*(sc.Side/2)*(sc.Side/2)
	}
	floats *= n.Channels * (2 + 5*n.Blocks)
	fit := int((1 << 30) / (2.5 * 4 * float64(floats)))
	for _, b := range []int{1000, 500, 250, 200, 100, 50, 25, 10} {
		if b <= fit {
			return min(configured, b)
		}
	}
	return min(configured, 10)
}

func (n multiscaleNet) nll(batch int, init bool) ([]float32, *graphs.Bound, *G.Node, *G.Node, error) {
	g, err := n.BuildNLL(batch, init)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return g.X, g.Bound, g.NLL, g.Loss, nil
}

func (n multiscaleNet) sampler(batch int) (*graphs.Bound, func(float64, *rand.Rand) error, *G.Node, error) {
	s, err := n.BuildSampler(batch)
	if err != nil {
		return nil, nil, nil, err
	}
	draw := func(t float64, rng *rand.Rand) error {
		for _, z := range s.Latents {
			fillScaledNormal(z, t, rng)
		}
		return nil
	}
	return s.Bound, draw, s.X, nil
}

// glowNet adapts nets.Glow to the flow adapter.
type glowNet struct{ *nets.Glow }

// NewGlow builds Glow.
func NewGlow(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s struct {
		Levels      int     `mapstructure:"levels"`
		Steps       int     `mapstructure:"steps"`
		Hidden      int     `mapstructure:"hidden"`
		Coupling    string  `mapstructure:"coupling"`
		LearnTop    bool    `mapstructure:"learn_top"`
		Alpha       float64 `mapstructure:"alpha"`
		Temperature float64 `mapstructure:"temperature"`
	}
	if err := cfg.Decode("glow", &s); err != nil {
		return nil, err
	}
	if s.Coupling != "affine" && s.Coupling != "additive" {
		return nil, fmt.Errorf("config: glow.coupling must be affine or additive, got %q", s.Coupling)
	}
	net, err := nets.NewGlow(nets.GlowConfig{Levels: s.Levels, Steps: s.Steps, Hidden: s.Hidden, Side: common.Data.ImageSide(),
		Additive: s.Coupling == "additive", LearnTop: s.LearnTop}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newFlow("glow", glowNet{net}, common, s.Alpha, s.Temperature)
}

func (n glowNet) params() []*graphs.Param      { return n.Params.List() }
func (n glowNet) trainable() []*graphs.Param   { return n.Trainable() }
func (n glowNet) dims() int                    { return n.Dims() }
func (n glowNet) evalBatch(configured int) int { return configured }

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
