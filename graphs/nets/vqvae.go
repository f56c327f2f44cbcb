package nets

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// VQVAEConfig is the architecture of the VQ-VAE.
type VQVAEConfig struct {
	Side        int // side of the square images, a multiple of 4 (MNIST: 28)
	Channels    int // C, the width of the encoder and the decoder
	ResChannels int // the hidden width of each residual block
	ResBlocks   int // residual blocks in the encoder and in the decoder
	EmbedDim    int // D, the size of a code
	Codes       int // K, the codebook's size
}

// LatentSide is the side of the grid of codes: Side/4.
func (c VQVAEConfig) LatentSide() int { return c.Side / 4 }

// VQVAE is the VQ-VAE of van den Oord et al. 2017 for 1xSxS images: a
// convolutional encoder to an (S/4)x(S/4) grid of D-vectors z_e, each
// replaced by its nearest code e of a K-code codebook, and a mirror decoder.
// The codebook is a set of buffers that the training step updates by
// exponential moving averages (VQCodebook), not a learned parameter.
//
// Parameter names are those of a PyTorch module with two nn.Sequential
// stacks and a quantizer with registered buffers, n = ResBlocks:
//
//	encoder: 0 Conv2d(1, C, 4, 2, 1), 1 ReLU, 2 Conv2d(C, C, 4, 2, 1), 3 ReLU,
//	  4 Conv2d(C, C, 3, 1, 1), 5..4+n Residual, 5+n ReLU, 6+n Conv2d(C, D, 1)
//	quantizer: embed (K, D), cluster_size (K), embed_avg (K, D), unused (K)
//	decoder: 0 Conv2d(D, C, 3, 1, 1), 1..n Residual, n+1 ReLU,
//	  n+2 ConvTranspose2d(C, C, 4, 2, 1), n+3 ReLU, n+4 ConvTranspose2d(C, 1, 4, 2, 1)
//
// where Residual(x) = x + block(x), block = Sequential(ReLU, Conv2d(C, R, 3,
// 1, 1), ReLU, Conv2d(R, C, 1)) (the paper's residual block). The decoder's
// output is linear: the reconstruction of [0,1] pixels under MSE.
type VQVAE struct {
	Config             VQVAEConfig
	Params             *graphs.ParamSet
	EncDown1, EncDown2 *layers.Conv2d // encoder.0, encoder.2
	EncIn              *layers.Conv2d // encoder.4
	EncRes             []*VQResBlock
	EncOut             *layers.Conv2d // encoder.6+n
	Codebook           *VQCodebook
	DecIn              *layers.Conv2d // decoder.0
	DecRes             []*VQResBlock
	DecUp1, DecUp2     *layers.ConvTranspose2d // decoder.n+2, decoder.n+4
	trainable          []*graphs.Param
}

// VQResBlock is x + Conv1x1(ReLU(Conv3x3(ReLU(x)))): PyTorch's
// NAME.block.1 and NAME.block.3.
type VQResBlock struct {
	C1, C2 *layers.Conv2d
}

func newVQResBlock(ps *graphs.ParamSet, name string, c, r int, rng *rand.Rand) *VQResBlock {
	return &VQResBlock{
		C1: layers.NewConv2d(ps, name+".block.1", c, r, 3, 1, 1, rng),
		C2: layers.NewConv2d(ps, name+".block.3", r, c, 1, 1, 0, rng),
	}
}

// Forward applies the block to x (B, C, H, W).
func (r *VQResBlock) Forward(b *graphs.Bound, x *G.Node) *G.Node {
	h := r.C2.Forward(b, ops.ReLU(r.C1.Forward(b, ops.ReLU(x))))
	return must(G.Add(x, h))
}

// VQCodebook is the quantizer's state, PyTorch buffers of
// quantizer.*: the codes Embed (K, D); the exponential moving averages of
// each code's count of assigned latents ClusterSize (K) and of their sum
// EmbedAvg (K, D), of which Embed is the smoothed ratio; and Unused (K), the
// training steps since each code was last picked (dead-code restarts).
type VQCodebook struct {
	K, D                                 int
	Embed, ClusterSize, EmbedAvg, Unused *graphs.Param
}

// NewVQVAE creates the model with PyTorch's default initialization drawn
// from rng; the codes are drawn from N(0, 1) and EmbedAvg is a copy of them.
func NewVQVAE(cfg VQVAEConfig, rng *rand.Rand) (*VQVAE, error) {
	switch {
	case cfg.Side <= 0 || cfg.Side%4 != 0:
		return nil, fmt.Errorf("vqvae: the image side must be a positive multiple of 4, got %d", cfg.Side)
	case cfg.Channels <= 0 || cfg.ResChannels <= 0 || cfg.ResBlocks < 0:
		return nil, fmt.Errorf("vqvae: channels and res_channels must be positive and res_blocks not negative")
	case cfg.EmbedDim <= 0 || cfg.Codes < 2:
		return nil, fmt.Errorf("vqvae: embedding_dim must be positive and codebook_size at least 2")
	}
	c, n := cfg.Channels, cfg.ResBlocks
	ps := graphs.NewParamSet()
	m := &VQVAE{Config: cfg, Params: ps}
	m.EncDown1 = layers.NewConv2d(ps, "encoder.0", 1, c, 4, 2, 1, rng)
	m.EncDown2 = layers.NewConv2d(ps, "encoder.2", c, c, 4, 2, 1, rng)
	m.EncIn = layers.NewConv2d(ps, "encoder.4", c, c, 3, 1, 1, rng)
	for i := 0; i < n; i++ {
		m.EncRes = append(m.EncRes, newVQResBlock(ps, fmt.Sprintf("encoder.%d", 5+i), c, cfg.ResChannels, rng))
	}
	m.EncOut = layers.NewConv2d(ps, fmt.Sprintf("encoder.%d", 6+n), c, cfg.EmbedDim, 1, 1, 0, rng)
	k, d := cfg.Codes, cfg.EmbedDim
	cb := &VQCodebook{K: k, D: d,
		Embed: ps.Add("quantizer.embed", k, d), ClusterSize: ps.Add("quantizer.cluster_size", k),
		EmbedAvg: ps.Add("quantizer.embed_avg", k, d), Unused: ps.Add("quantizer.unused", k)}
	layers.NormalInit(cb.Embed, 1, rng)
	copy(cb.EmbedAvg.Data, cb.Embed.Data)
	m.Codebook = cb
	m.DecIn = layers.NewConv2d(ps, "decoder.0", d, c, 3, 1, 1, rng)
	for i := 0; i < n; i++ {
		m.DecRes = append(m.DecRes, newVQResBlock(ps, fmt.Sprintf("decoder.%d", 1+i), c, cfg.ResChannels, rng))
	}
	m.DecUp1 = layers.NewConvTranspose2d(ps, fmt.Sprintf("decoder.%d", n+2), c, c, 4, 2, 1, rng)
	m.DecUp2 = layers.NewConvTranspose2d(ps, fmt.Sprintf("decoder.%d", n+4), c, 1, 4, 2, 1, rng)
	for _, p := range ps.List() {
		if p != cb.Embed && p != cb.ClusterSize && p != cb.EmbedAvg && p != cb.Unused {
			m.trainable = append(m.trainable, p)
		}
	}
	return m, nil
}

// Trainable returns the parameters an optimizer updates: all but the
// codebook's buffers.
func (m *VQVAE) Trainable() []*graphs.Param { return m.trainable }

// Encode maps x (B, 1, S, S) to z_e (B, D, S/4, S/4).
func (m *VQVAE) Encode(b *graphs.Bound, x *G.Node) *G.Node {
	h := ops.ReLU(m.EncDown1.Forward(b, x))
	h = ops.ReLU(m.EncDown2.Forward(b, h))
	h = m.EncIn.Forward(b, h)
	for _, r := range m.EncRes {
		h = r.Forward(b, h)
	}
	return m.EncOut.Forward(b, ops.ReLU(h))
}

// Decode maps quantized latents (B, D, S/4, S/4) to reconstructions
// (B, 1, S, S), linear.
func (m *VQVAE) Decode(b *graphs.Bound, q *G.Node) *G.Node {
	h := m.DecIn.Forward(b, q)
	for _, r := range m.DecRes {
		h = r.Forward(b, h)
	}
	h = ops.ReLU(m.DecUp1.Forward(b, ops.ReLU(h)))
	return m.DecUp2.Forward(b, h)
}

// Quantize returns the nearest codes of z_e with the straight-through
// gradient, recording the picked indices in codes (nil: not recorded).
func (m *VQVAE) Quantize(b *graphs.Bound, ze *G.Node, codes *ops.Codes) *G.Node {
	return ops.VectorQuantize(ze, b.Node(m.Codebook.Embed), codes)
}

// losses returns the reconstruction MSE of xHat against x and the
// commitment MSE of z_e against target (sg(e) in training), each a mean
// over elements (as F.mse_loss).
func losses(x, xHat, ze, target *G.Node) (recon, commit *G.Node) {
	recon = must(G.Mean(must(G.Square(must(G.Sub(xHat, x))))))
	commit = must(G.Mean(must(G.Square(must(G.Sub(ze, target))))))
	return recon, commit
}

// VQVAETrainGraph is the training loss of one batch: fill X with the
// batch's [0,1] pixels (B, 1, S, S) before each run; after it, Codes holds
// the picked code of each latent position (B, S/4, S/4) and ZE (an output
// to watch) the encoder's outputs, which the codebook update reads.
type VQVAETrainGraph struct {
	Bound *graphs.Bound
	Batch int
	Beta  float64
	X     []float32
	Codes *ops.Codes
	ZE    *G.Node // (B, D, S/4, S/4)
	// Recon is the mean squared error of the reconstructions, Commit the
	// mean of (z_e - sg(e))^2, Loss = Recon + Beta * Commit.
	Recon, Commit, Loss *G.Node
}

// BuildLoss builds the VQ-VAE's loss for a batch size: reconstruction MSE
// through the straight-through quantizer plus beta times the commitment
// loss. The codebook receives no gradient (it is updated outside the
// graph), so compile it with graphs.CompileWRT over Trainable.
func (m *VQVAE) BuildLoss(batch int, beta float64) (*VQVAETrainGraph, error) {
	s := m.Config.Side
	t := &VQVAETrainGraph{Batch: batch, Beta: beta, Codes: &ops.Codes{}}
	err := graphs.Build("vqvae loss", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		t.Bound = b
		var x *G.Node
		x, t.X = graphs.Input(g, "x", batch, 1, s, s)
		t.ZE = m.Encode(b, x)
		q := m.Quantize(b, t.ZE, t.Codes)
		t.Recon, t.Commit = losses(x, m.Decode(b, q), t.ZE, ops.StopGradient(q))
		t.Loss = must(G.Add(t.Recon, must(G.HadamardProd(t.Commit, scalar(float32(beta))))))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// VQVAEReconGraph encodes, quantizes and decodes a batch: fill X, run, read
// Out and Codes.
type VQVAEReconGraph struct {
	Bound     *graphs.Bound
	X         []float32 // (B, 1, S, S)
	Codes     *ops.Codes
	ZE        *G.Node // (B, D, S/4, S/4): the encoder's outputs
	Quantized *G.Node // (B, D, S/4, S/4): the codes' vectors
	Out       *G.Node // (B, 1, S, S), linear
}

// BuildReconstruct builds the reconstruction of a batch size.
func (m *VQVAE) BuildReconstruct(batch int) (*VQVAEReconGraph, error) {
	s := m.Config.Side
	r := &VQVAEReconGraph{Codes: &ops.Codes{}}
	err := graphs.Build("vqvae reconstruct", func() {
		g := G.NewGraph()
		r.Bound = graphs.Bind(g)
		var x *G.Node
		x, r.X = graphs.Input(g, "x", batch, 1, s, s)
		r.ZE = m.Encode(r.Bound, x)
		r.Quantized = m.Quantize(r.Bound, r.ZE, r.Codes)
		r.Out = m.Decode(r.Bound, r.Quantized)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// VQVAEDecodeGraph decodes grids of codes: fill Q with SetCodes, run, read
// Out.
type VQVAEDecodeGraph struct {
	Bound *graphs.Bound
	Batch int
	Q     []float32 // (B, D, S/4, S/4): the codes' vectors
	Out   *G.Node   // (B, 1, S, S), linear
}

// BuildDecoder builds the decoder for a batch size.
func (m *VQVAE) BuildDecoder(batch int) (*VQVAEDecodeGraph, error) {
	l := m.Config.LatentSide()
	d := &VQVAEDecodeGraph{Batch: batch}
	err := graphs.Build("vqvae decoder", func() {
		g := G.NewGraph()
		d.Bound = graphs.Bind(g)
		var q *G.Node
		q, d.Q = graphs.Input(g, "q", batch, m.Config.EmbedDim, l, l)
		d.Out = m.Decode(d.Bound, q)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Lookup writes the vectors of codes (B, P) into dst (B, D, P), channels
// first, as the decoder takes them; B = len(codes)/P rows.
func (c *VQCodebook) Lookup(codes []int32, p int, dst []float32) {
	d := c.D
	for i, k := range codes {
		b, q := i/p, i%p
		e := c.Embed.Data[int(k)*d : (int(k)+1)*d]
		for ch, v := range e {
			dst[(b*d+ch)*p+q] = v
		}
	}
}
