package nets

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// UNet is the UNet-S noise-prediction network of ../shared/bench/ddpm_ref.py
// for 1x28x28 images: a sinusoidal time embedding through a two-layer MLP,
// residual blocks (GroupNorm(8), SiLU, 3x3 convolutions, the time embedding
// added per channel after the first convolution), two stride-2
// downsamplings (28 -> 14 -> 7), two middle blocks, and two 2x nearest
// upsamplings, each followed by a 3x3 convolution and concatenated with the
// skip connection of the same resolution. With c = Ch:
//
//	inc 1 -> c, d1 (c -> c) @28, down1, d2 (c -> 2c) @14, down2,
//	m1, m2 (2c) @7, up2 + cat(h2) -> u2 (4c -> 2c) @14,
//	up1 + cat(h1) -> u1 (2c -> c) @28, out: GroupNorm, SiLU, conv c -> 1
//
// Parameter names are that script's state_dict keys (temb.0, d1.n1, ...), so
// a checkpoint loads into its UNet class with strict=True.
type UNet struct {
	UNetConfig
	Params *graphs.ParamSet

	TEmb1, TEmb2 *layers.Linear // temb.0, temb.2
	Inc          *layers.Conv2d
	D1, D2       *ResBlock
	Down1, Down2 *layers.Conv2d
	M1, M2       *ResBlock
	Up2, Up1     *layers.Conv2d
	U2, U1       *ResBlock
	OutNorm      *layers.GroupNorm // out.0
	OutConv      *layers.Conv2d    // out.2
	ClassEmbed   *graphs.Param     // class_emb.weight (classes+1, temb): conditional only
}

// UNetConfig sizes a UNet. The defaults of the reference are Ch 32, TEmb 128,
// Groups 8.
type UNetConfig struct {
	Ch, TEmb, Groups int
	// Side is the side of the square images (0: MNIST's 28); the network
	// halves it twice, so it is a multiple of 4.
	Side int
	// Classes > 0 adds a class embedding (one row per class and one for "no
	// class") to the time embedding, for classifier-free guidance.
	Classes int
	// In is the channel count of the input and of the prediction (0: the
	// images' 1); latent diffusion runs over an autoencoder's channels.
	In int
}

// ResBlock is the reference's residual block: h = c1(silu(n1(x))) + t(temb),
// y = c2(silu(n2(h))) + skip(x), skip a 1x1 convolution when the channel
// count changes.
type ResBlock struct {
	N1, N2 *layers.GroupNorm
	C1, C2 *layers.Conv2d
	T      *layers.Linear
	Skip   *layers.Conv2d
}

func newResBlock(ps *graphs.ParamSet, name string, cin, cout, temb, groups int, rng *rand.Rand) *ResBlock {
	r := &ResBlock{
		N1: layers.NewGroupNorm(ps, name+".n1", groups, cin),
		C1: layers.NewConv2d(ps, name+".c1", cin, cout, 3, 1, 1, rng),
		T:  layers.NewLinear(ps, name+".t", temb, cout, rng),
		N2: layers.NewGroupNorm(ps, name+".n2", groups, cout),
		C2: layers.NewConv2d(ps, name+".c2", cout, cout, 3, 1, 1, rng),
	}
	if cin != cout {
		r.Skip = layers.NewConv2d(ps, name+".skip", cin, cout, 1, 1, 0, rng)
	}
	return r
}

// Forward applies the block to x (B, cin, H, W) with the embedding te (B, temb).
func (r *ResBlock) Forward(b *graphs.Bound, x, te *G.Node) *G.Node {
	h := r.C1.Forward(b, ops.SiLU(r.N1.Forward(b, x)))
	h = ops.AddPerChannel(h, r.T.Forward(b, te))
	h = r.C2.Forward(b, ops.SiLU(r.N2.Forward(b, h)))
	skip := x
	if r.Skip != nil {
		skip = r.Skip.Forward(b, x)
	}
	return must(G.Add(h, skip))
}

// NewUNet creates a UNet with PyTorch's default initialization.
func NewUNet(cfg UNetConfig, rng *rand.Rand) (*UNet, error) {
	c, te, g := cfg.Ch, cfg.TEmb, cfg.Groups
	switch {
	case c <= 0 || te <= 0 || g <= 0:
		return nil, fmt.Errorf("unet: channels, time embedding and groups must be positive")
	case c%2 != 0:
		return nil, fmt.Errorf("unet: channels %d must be even (the sinusoidal embedding has sin and cos halves)", c)
	case c%g != 0:
		return nil, fmt.Errorf("unet: channels %d do not split into %d groups", c, g)
	case cfg.Classes < 0:
		return nil, fmt.Errorf("unet: negative class count")
	case cfg.Side < 0 || cfg.Side%4 != 0:
		return nil, fmt.Errorf("unet: image side %d is not a multiple of 4", cfg.Side)
	case cfg.In < 0:
		return nil, fmt.Errorf("unet: negative input channels")
	}
	if cfg.Side == 0 {
		cfg.Side = 28
	}
	if cfg.In == 0 {
		cfg.In = 1
	}
	ps := graphs.NewParamSet()
	m := &UNet{UNetConfig: cfg, Params: ps}
	m.TEmb1 = layers.NewLinear(ps, "temb.0", c, te, rng)
	m.TEmb2 = layers.NewLinear(ps, "temb.2", te, te, rng)
	if cfg.Classes > 0 {
		// nn.Embedding initializes from N(0, 1).
		m.ClassEmbed = ps.Add("class_emb.weight", cfg.Classes+1, te)
		layers.NormalInit(m.ClassEmbed, 1, rng)
	}
	m.Inc = layers.NewConv2d(ps, "inc", cfg.In, c, 3, 1, 1, rng)
	m.D1 = newResBlock(ps, "d1", c, c, te, g, rng)
	m.Down1 = layers.NewConv2d(ps, "down1", c, c, 3, 2, 1, rng)
	m.D2 = newResBlock(ps, "d2", c, 2*c, te, g, rng)
	m.Down2 = layers.NewConv2d(ps, "down2", 2*c, 2*c, 3, 2, 1, rng)
	m.M1 = newResBlock(ps, "m1", 2*c, 2*c, te, g, rng)
	m.M2 = newResBlock(ps, "m2", 2*c, 2*c, te, g, rng)
	m.Up2 = layers.NewConv2d(ps, "up2", 2*c, 2*c, 3, 1, 1, rng)
	m.U2 = newResBlock(ps, "u2", 4*c, 2*c, te, g, rng)
	m.Up1 = layers.NewConv2d(ps, "up1", 2*c, c, 3, 1, 1, rng)
	m.U1 = newResBlock(ps, "u1", 2*c, c, te, g, rng)
	m.OutNorm = layers.NewGroupNorm(ps, "out.0", g, c)
	m.OutConv = layers.NewConv2d(ps, "out.2", c, cfg.In, 3, 1, 1, rng)
	return m, nil
}

// Forward predicts the noise in x (B, In, Side, Side) given tsin (B, Ch), the
// sinusoidal embedding of each image's timestep (TimestepEmbedding), and,
// for a conditional network, classOneHot (B, Classes+1) selecting a row of
// the class embedding (the last row: no class).
func (m *UNet) Forward(b *graphs.Bound, x, tsin, classOneHot *G.Node) *G.Node {
	te := ops.SiLU(m.TEmb2.Forward(b, ops.SiLU(m.TEmb1.Forward(b, tsin))))
	if m.ClassEmbed != nil {
		if classOneHot == nil {
			graphs.Fail(fmt.Errorf("unet: a conditional network needs class labels"))
		}
		te = must(G.Add(te, must(G.Mul(classOneHot, b.Node(m.ClassEmbed)))))
	}
	h1 := m.D1.Forward(b, m.Inc.Forward(b, x), te)
	h2 := m.D2.Forward(b, m.Down1.Forward(b, h1), te)
	h := m.M2.Forward(b, m.M1.Forward(b, m.Down2.Forward(b, h2), te), te)
	h = m.U2.Forward(b, ops.ConcatChannels(m.Up2.Forward(b, ops.Upsample2x(h)), h2), te)
	h = m.U1.Forward(b, ops.ConcatChannels(m.Up1.Forward(b, ops.Upsample2x(h)), h1), te)
	return m.OutConv.Forward(b, ops.SiLU(m.OutNorm.Forward(b, h)))
}
