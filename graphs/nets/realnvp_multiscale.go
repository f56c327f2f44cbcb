package nets

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// RealNVPMultiscale is the multi-scale RealNVP of Dinh et al. (2017,
// sections 3.3-3.6) for 1-channel Side x Side images. Each scale but the
// last is
//
//	3 affine couplings with alternating checkerboard masks   (C, s, s)
//	squeeze: each 2x2 block of pixels into 4 channels         (4C, s/2, s/2)
//	3 affine couplings with alternating channel-wise masks    (4C, s/2, s/2)
//	factor out the last 2C channels: latents under N(0, I)    -> (2C, s/2, s/2) go on
//
// and the final scale is 4 checkerboard couplings whose output is the last
// latent, also under N(0, I). With Scales = 3 on 28x28: 1x28x28 -> 4x14x14,
// 2 channels out -> 2x14x14 -> 8x7x7, 4 out -> 4x7x7, the final scale; 7 is
// odd, so there is no third squeeze.
//
// The squeeze is Glow's (ops.Squeeze: channel 4c + 2i + j from pixel
// (2y+i, 2x+j) of channel c), so at the first scale the channel-wise halves
// are the top and the bottom rows of each 2x2 block: a partition other than
// the checkerboard's, and the factored-out half is spread evenly over the
// image. (Some implementations, chrischute/real-nvp's for one, reorder the
// squeeze before factoring out so that the halves are the checkerboard's
// colours again; any fixed order is as exact, and this one reuses the
// squeeze the project already checks.)
//
// A coupling's network is a small ResNet on the kept part (see
// CouplingResNet) whose zero-initialized last convolution gives
// [s_raw, t]; s = scale tanh(s_raw) with a learned per-channel scale
// (ops.AffineCoupling), so every coupling starts as the identity. Parameter
// names are state_dict keys: scales.1.couplings.4.net.blocks.0.conv1.weight,
// scales.1.couplings.4.rescale.weight.
type RealNVPMultiscale struct {
	RealNVPMultiscaleConfig
	Params *graphs.ParamSet
	Scales []*RNVPScale
	// buffers are the ActNorms' initialized flags: saved, not trained.
	buffers map[*graphs.Param]bool
}

// RealNVPMultiscaleConfig sizes a RealNVPMultiscale.
type RealNVPMultiscaleConfig struct {
	Side     int // input images are Side x Side, 1 channel
	Scales   int // scales, the final one included: Scales-1 squeezes
	Channels int // feature maps of the couplings' ResNets
	Blocks   int // residual blocks per ResNet
}

// RNVPScale is one scale: couplings.0-2 (checkerboard, at C x Side x Side),
// then, except at the final scale, couplings.3-5 (channel-wise, after the
// squeeze, at 4C x Side/2 x Side/2); the final scale has couplings.0-3.
type RNVPScale struct {
	C, Side int // channels and side of the scale's input
	Final   bool
	Checker []*ConvCoupling
	Channel []*ConvCoupling // nil at the final scale
}

// ConvCoupling is one affine coupling with a convolutional network.
type ConvCoupling struct {
	Mask    ops.ImageMask
	C       int // channels of the coupling's input
	Net     *CouplingResNet
	Rescale *graphs.Param // rescale.weight (ct, 1, 1), ones: s = rescale tanh(s_raw)
}

// CouplingResNet is the network of a coupling, a pre-activation ResNet of
// 3x3 convolutions (Dinh et al. section 4.1, He et al. 2016):
//
//	in_conv (Cin -> F); Blocks x [h += conv2(relu(norm2(conv1(relu(norm1(h))))))];
//	out_conv(relu(out_norm(h))) (F -> 2ct, zero-initialized)
//
// Its normalization is ActNorm (Glow's), not Dinh et al.'s batch
// normalization: a per-channel affine map initialized from the first
// training batch to zero mean and unit variance, as batch normalization's
// first step would, but fixed afterwards, so that training, evaluation and
// the inverse compute the same function of one image. Batch normalization
// would make log p(x) depend on the rest of the batch in training and need
// running averages (and a graph of their own) for evaluation and sampling.
type CouplingResNet struct {
	InConv  *layers.Conv2d
	Blocks  []*ResNetBlock
	OutNorm *layers.ActNorm
	OutConv *layers.Conv2d
}

// ResNetBlock is one residual block of a CouplingResNet.
type ResNetBlock struct {
	Norm1, Norm2 *layers.ActNorm
	Conv1, Conv2 *layers.Conv2d
}

// NewRealNVPMultiscale creates the flow: convolutions with PyTorch's
// default initialization, but the last of each network at zero and the
// rescales at one.
func NewRealNVPMultiscale(cfg RealNVPMultiscaleConfig, rng *rand.Rand) (*RealNVPMultiscale, error) {
	if cfg.Scales < 1 || cfg.Channels < 1 || cfg.Blocks < 1 {
		return nil, fmt.Errorf("realnvp: scales, channels and blocks must be at least 1 (got %d, %d, %d)", cfg.Scales, cfg.Channels, cfg.Blocks)
	}
	if cfg.Scales > 16 {
		return nil, fmt.Errorf("realnvp: %d scales would squeeze the image %d times", cfg.Scales, cfg.Scales-1)
	}
	if f := 1 << (cfg.Scales - 1); cfg.Side%f != 0 || cfg.Side/f < 2 {
		return nil, fmt.Errorf("realnvp: %d scales need an image side divisible by %d and at least %d, got %d", cfg.Scales, f, 2*f, cfg.Side)
	}
	ps := graphs.NewParamSet()
	m := &RealNVPMultiscale{RealNVPMultiscaleConfig: cfg, Params: ps, buffers: map[*graphs.Param]bool{}}
	c, side := 1, cfg.Side
	for s := range cfg.Scales {
		sc := &RNVPScale{C: c, Side: side, Final: s == cfg.Scales-1}
		checker := 3
		if sc.Final {
			checker = 4
		}
		for k := range checker {
			sc.Checker = append(sc.Checker, m.newCoupling(fmt.Sprintf("scales.%d.couplings.%d", s, k), ops.ImageMask{Odd: k%2 == 1}, c, rng))
		}
		if !sc.Final {
			for k := range 3 {
				name := fmt.Sprintf("scales.%d.couplings.%d", s, checker+k)
				sc.Channel = append(sc.Channel, m.newCoupling(name, ops.ImageMask{ChannelWise: true, Odd: k%2 == 1}, 4*c, rng))
			}
			c, side = 2*c, side/2
		}
		m.Scales = append(m.Scales, sc)
	}
	return m, nil
}

// newCoupling adds a coupling of an input of c channels.
func (m *RealNVPMultiscale) newCoupling(name string, mask ops.ImageMask, c int, rng *rand.Rand) *ConvCoupling {
	cp := NewConvCoupling(m.Params, name, mask, c, m.Channels, m.Blocks, rng)
	for _, a := range cp.Norms() {
		m.buffers[a.Initialized] = true
	}
	return cp
}

// NewConvCoupling adds a coupling of an input of c channels whose ResNet
// has f feature maps and the given number of residual blocks to ps, under
// name: convolutions with PyTorch's default initialization but the last at
// zero, the rescale at one.
func NewConvCoupling(ps *graphs.ParamSet, name string, mask ops.ImageMask, c, f, blocks int, rng *rand.Rand) *ConvCoupling {
	ct := mask.Transformed(c)
	in := c // a checkerboard's network sees x m, every channel
	if mask.ChannelWise {
		in = c / 2 // a channel-wise one the kept half
	}
	net := &CouplingResNet{InConv: layers.NewConv2d(ps, name+".net.in_conv", in, f, 3, 1, 1, rng)}
	for k := range blocks {
		bn := fmt.Sprintf("%s.net.blocks.%d", name, k)
		blk := &ResNetBlock{Norm1: layers.NewActNorm(ps, bn+".norm1", f)}
		blk.Conv1 = layers.NewConv2d(ps, bn+".conv1", f, f, 3, 1, 1, rng)
		blk.Norm2 = layers.NewActNorm(ps, bn+".norm2", f)
		blk.Conv2 = layers.NewConv2d(ps, bn+".conv2", f, f, 3, 1, 1, rng)
		net.Blocks = append(net.Blocks, blk)
	}
	net.OutNorm = layers.NewActNorm(ps, name+".net.out_norm", f)
	net.OutConv = newZeroConv(ps, name+".net.out_conv", f, 2*ct, 3, 1)
	cp := &ConvCoupling{Mask: mask, C: c, Net: net, Rescale: ps.Add(name+".rescale.weight", ct, 1, 1)}
	for i := range cp.Rescale.Data {
		cp.Rescale.Data[i] = 1
	}
	return cp
}

// Norms returns the coupling's ActNorms.
func (c *ConvCoupling) Norms() []*layers.ActNorm {
	var ns []*layers.ActNorm
	for _, blk := range c.Net.Blocks {
		ns = append(ns, blk.Norm1, blk.Norm2)
	}
	return append(ns, c.Net.OutNorm)
}

// Trainable returns the parameters an optimizer updates (not the ActNorms'
// initialized flags), in state_dict order.
func (m *RealNVPMultiscale) Trainable() []*graphs.Param {
	var ps []*graphs.Param
	for _, p := range m.Params.List() {
		if !m.buffers[p] {
			ps = append(ps, p)
		}
	}
	return ps
}

// Couplings returns every coupling in the order Forward applies them.
func (m *RealNVPMultiscale) Couplings() []*ConvCoupling {
	var cs []*ConvCoupling
	for _, sc := range m.Scales {
		cs = append(append(cs, sc.Checker...), sc.Channel...)
	}
	return cs
}

// Norms returns every ActNorm of the couplings' networks.
func (m *RealNVPMultiscale) Norms() []*layers.ActNorm {
	var ns []*layers.ActNorm
	for _, c := range m.Couplings() {
		ns = append(ns, c.Norms()...)
	}
	return ns
}

// Dims is the number of pixels modelled.
func (m *RealNVPMultiscale) Dims() int { return m.Side * m.Side }

// Forward is the network on x (B, Cin, H, W); with init, ActNorms not yet
// initialized initialize themselves from this graph's first run.
func (r *CouplingResNet) Forward(b *graphs.Bound, x *G.Node, init bool) *G.Node {
	h := r.InConv.Forward(b, x)
	for _, blk := range r.Blocks {
		u := blk.Conv1.Forward(b, blk.Norm1.NormalizeReLU(b, h, init))
		u = blk.Conv2.Forward(b, blk.Norm2.NormalizeReLU(b, u, init))
		h = must(G.Add(h, u))
	}
	return r.OutConv.Forward(b, r.OutNorm.NormalizeReLU(b, h, init))
}

// netInput is what the network sees of x: x m for a checkerboard, the kept
// half of the channels channel-wise (the same as x m with the zero
// channels dropped). It is the same for the coupling's output, which keeps
// these elements.
func (c *ConvCoupling) netInput(x *G.Node) *G.Node {
	if !c.Mask.ChannelWise {
		return ops.CheckerboardMask(x, c.Mask.Odd)
	}
	lo := 0
	if c.Mask.Odd {
		lo = c.C / 2
	}
	return ops.SliceChannels(x, lo, lo+c.C/2)
}

// st is the network's output [s_raw, t] and the rescale.
func (c *ConvCoupling) st(b *graphs.Bound, x *G.Node, init bool) (h, scale *G.Node) {
	h = c.Net.Forward(b, c.netInput(x), init)
	return h, b.Node(c.Rescale, 1, c.Mask.Transformed(c.C))
}

// Forward applies the coupling to x (B, C, H, W) and returns its
// log-determinant per image, (B, 1).
func (c *ConvCoupling) Forward(b *graphs.Bound, x *G.Node, init bool) (y, logDet *G.Node) {
	h, scale := c.st(b, x, init)
	return ops.AffineCoupling(x, h, scale, c.Mask), ops.AffineCouplingLogDet(h, scale, c.Mask, c.C)
}

// Inverse undoes Forward: the network sees the kept elements, which Forward
// left unchanged, so it gives the same s and t.
func (c *ConvCoupling) Inverse(b *graphs.Bound, y *G.Node) *G.Node {
	h, scale := c.st(b, y, false)
	return ops.AffineCouplingInverse(y, h, scale, c.Mask)
}

// MultiscaleGraph is the multi-scale RealNVP's negative log-likelihood on a
// batch.
type MultiscaleGraph struct {
	Bound *graphs.Bound
	X     []float32 // (B, 1, Side, Side), in the flow's input space (logit space)
	// NLL is the sum over the batch of -log p(x) in nats; Loss its mean.
	NLL, Loss *G.Node
	// Latents are z: the half factored out at each scale, then the final
	// scale's output; what BuildSampler's inputs take back.
	Latents []*G.Node
}

// Forward maps x (B, 1, Side, Side) to the latents and the summed
// log-determinant of the batch (a scalar).
func (m *RealNVPMultiscale) Forward(b *graphs.Bound, x *G.Node, init bool) (latents []*G.Node, logDet *G.Node) {
	add := func(ld *G.Node) {
		ld = must(G.Sum(ld))
		if logDet == nil {
			logDet = ld
		} else {
			logDet = must(G.Add(logDet, ld))
		}
	}
	for _, sc := range m.Scales {
		for _, c := range sc.Checker {
			var ld *G.Node
			x, ld = c.Forward(b, x, init)
			add(ld)
		}
		if sc.Final {
			break
		}
		x = ops.Squeeze(x)
		for _, c := range sc.Channel {
			var ld *G.Node
			x, ld = c.Forward(b, x, init)
			add(ld)
		}
		c := 4 * sc.C
		latents = append(latents, ops.SliceChannels(x, c/2, c))
		x = ops.SliceChannels(x, 0, c/2)
	}
	return append(latents, x), logDet
}

// Inverse maps the latents (as Forward returns them) back to x.
func (m *RealNVPMultiscale) Inverse(b *graphs.Bound, latents []*G.Node) *G.Node {
	x := latents[len(latents)-1]
	for s := len(m.Scales) - 1; s >= 0; s-- {
		sc := m.Scales[s]
		if !sc.Final {
			x = ops.ConcatChannels(x, latents[s])
			for k := len(sc.Channel) - 1; k >= 0; k-- {
				x = sc.Channel[k].Inverse(b, x)
			}
			x = ops.Unsqueeze(x)
		}
		for k := len(sc.Checker) - 1; k >= 0; k-- {
			x = sc.Checker[k].Inverse(b, x)
		}
	}
	return x
}

// latentShapes are the shapes of Forward's latents for a batch.
func (m *RealNVPMultiscale) latentShapes(batch int) [][]int {
	var shapes [][]int
	for _, sc := range m.Scales {
		if sc.Final {
			shapes = append(shapes, []int{batch, sc.C, sc.Side, sc.Side})
		} else {
			shapes = append(shapes, []int{batch, 2 * sc.C, sc.Side / 2, sc.Side / 2})
		}
	}
	return shapes
}

// BuildNLL builds -log p(x) = 0.5 |z|^2 + 0.5 D log(2 pi) - log|det dz/dx|
// for a batch, every latent under N(0, I); with init, the ActNorms not yet
// initialized initialize themselves from this graph's first run.
func (m *RealNVPMultiscale) BuildNLL(batch int, init bool) (*MultiscaleGraph, error) {
	mg := &MultiscaleGraph{}
	err := graphs.Build("realnvp multiscale", func() {
		g := G.NewGraph()
		mg.Bound = graphs.Bind(g)
		var x *G.Node
		x, mg.X = graphs.Input(g, "x", batch, 1, m.Side, m.Side)
		var logDet *G.Node
		mg.Latents, logDet = m.Forward(mg.Bound, x, init)
		var sq *G.Node
		for _, z := range mg.Latents {
			s := must(G.Sum(must(G.Square(z))))
			if sq == nil {
				sq = s
			} else {
				sq = must(G.Add(sq, s))
			}
		}
		nll := must(G.Sub(must(G.HadamardProd(sq, scalar(0.5))), logDet))
		mg.NLL = must(G.Add(nll, scalar(float32(0.5*float64(batch*m.Dims())*math.Log(2*math.Pi)))))
		mg.Loss = must(G.HadamardProd(mg.NLL, scalar(1/float32(batch))))
	})
	return mg, err
}

// MultiscaleSampler is the inverse on a graph: latents in, images out.
type MultiscaleSampler struct {
	Bound *graphs.Bound
	// Latents are the inputs, in the order of MultiscaleGraph.Latents:
	// standard normal draws scaled by the temperature, by the caller.
	Latents [][]float32
	X       *G.Node // (B, 1, Side, Side) in the flow's input space
}

// BuildSampler builds the inverse for a batch.
func (m *RealNVPMultiscale) BuildSampler(batch int) (*MultiscaleSampler, error) {
	ms := &MultiscaleSampler{}
	err := graphs.Build("realnvp multiscale sampler", func() {
		g := G.NewGraph()
		ms.Bound = graphs.Bind(g)
		var zs []*G.Node
		for i, shape := range m.latentShapes(batch) {
			z, data := graphs.Input(g, fmt.Sprintf("z_%d", i), shape...)
			zs = append(zs, z)
			ms.Latents = append(ms.Latents, data)
		}
		ms.X = m.Inverse(ms.Bound, zs)
	})
	return ms, err
}
