package nets

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// GAN losses.
const (
	// LossBCE is the seed's: binary cross-entropy for D, and the
	// non-saturating -log D(G(z)) for G (Goodfellow et al. 2014, sec. 3).
	LossBCE = "bce"
	// LossMinimax has G minimize log(1 - D(G(z))), the original game; its
	// gradient vanishes while D wins, the problem the seed's table names.
	LossMinimax = "minimax"
	// LossWGAN is the Wasserstein critic (Arjovsky et al. 2017): D maximizes
	// E[D(x)] - E[D(G(z))] with clipped weights, G maximizes E[D(G(z))].
	LossWGAN = "wgan"
	// LossHinge is the hinge loss of Lim & Ye 2017 / Miyato et al. 2018.
	LossHinge = "hinge"
)

// GANConfig is the architecture of the MLP GAN.
type GANConfig struct {
	LatentDim    int
	ImageDim     int     // pixels (784)
	GHidden      []int   // seed: 256, 512, 1024
	DHidden      []int   // seed: 512, 256
	Slope        float64 // LeakyReLU slope (0.2)
	DDropout     float64 // dropout after D's hidden layers (0.3)
	Classes      int     // 0, or the number of classes of a conditional GAN
	SpectralNorm bool    // spectral normalization of D's linear layers
}

// GAN is the seed's MLP GAN. Parameter names are those of a PyTorch module
// holding `generator` and `discriminator`, each with an nn.Sequential `net`:
// generator.net.{0,2,4,6} (Linear, LeakyReLU pairs, Tanh last) and
// discriminator.net.{0,3,6} (Linear, LeakyReLU, Dropout triples, Sigmoid
// last; genmodel keeps D's output as a logit and applies the sigmoid inside
// the loss). A conditional GAN adds generator.label_emb.weight and
// discriminator.label_emb.weight (nn.Embedding(classes, classes)), whose rows
// are concatenated to z and to x. Spectral normalization renames each D
// weight to weight_orig and adds the weight_u, weight_v power-iteration
// vectors, as torch.nn.utils.spectral_norm does.
type GAN struct {
	Config GANConfig
	Params *graphs.ParamSet
	Gen    []*layers.Linear
	Disc   []*layers.Linear
	GEmbed *graphs.Param
	DEmbed *graphs.Param
	// SN holds, per D layer, its spectral normalization when that is on.
	SN []*layers.SpectralNorm
}

// NewGAN creates a GAN with PyTorch's default initialization.
func NewGAN(cfg GANConfig, rng *rand.Rand) (*GAN, error) {
	if cfg.LatentDim <= 0 || cfg.ImageDim <= 0 || len(cfg.GHidden) == 0 || len(cfg.DHidden) == 0 {
		return nil, fmt.Errorf("gan: latent_dim, g_hidden and d_hidden must be positive and non-empty")
	}
	if cfg.DDropout < 0 || cfg.DDropout >= 1 {
		return nil, fmt.Errorf("gan: d_dropout must be in [0, 1), got %g", cfg.DDropout)
	}
	m := &GAN{Config: cfg, Params: graphs.NewParamSet()}
	in := cfg.LatentDim + cfg.Classes
	if cfg.Classes > 0 {
		m.GEmbed = m.Params.Add("generator.label_emb.weight", cfg.Classes, cfg.Classes)
		for i := range m.GEmbed.Data {
			m.GEmbed.Data[i] = float32(rng.NormFloat64()) // nn.Embedding's N(0,1)
		}
	}
	for i, h := range append(append([]int(nil), cfg.GHidden...), cfg.ImageDim) {
		m.Gen = append(m.Gen, layers.NewLinear(m.Params, fmt.Sprintf("generator.net.%d", 2*i), in, h, rng))
		in = h
	}
	in = cfg.ImageDim + cfg.Classes
	if cfg.Classes > 0 {
		m.DEmbed = m.Params.Add("discriminator.label_emb.weight", cfg.Classes, cfg.Classes)
		for i := range m.DEmbed.Data {
			m.DEmbed.Data[i] = float32(rng.NormFloat64())
		}
	}
	for i, h := range append(append([]int(nil), cfg.DHidden...), 1) {
		name := fmt.Sprintf("discriminator.net.%d", 3*i)
		var l *layers.Linear
		if cfg.SpectralNorm {
			l = &layers.Linear{In: in, Out: h, Weight: m.Params.Add(name+".weight_orig", h, in), Bias: m.Params.Add(name+".bias", h)}
			layers.UniformInit(l.Weight, in, rng)
			layers.UniformInit(l.Bias, in, rng)
			l.SN = layers.NewSpectralNorm(m.Params, name, l.Weight, rng)
			m.SN = append(m.SN, l.SN)
		} else {
			l = layers.NewLinear(m.Params, name, in, h, rng)
		}
		m.Disc = append(m.Disc, l)
		in = h
	}
	return m, nil
}

// GenParams and DiscParams are what each optimizer trains; the spectral
// norm vectors are buffers, updated by PowerIteration, not by gradients.
func (m *GAN) GenParams() []*graphs.Param { return linearParams(embedParams(m.GEmbed), m.Gen) }

// DiscParams is the discriminator's trainable parameters.
func (m *GAN) DiscParams() []*graphs.Param { return linearParams(embedParams(m.DEmbed), m.Disc) }

// linearParams appends each layer's weight and bias to ps.
func linearParams(ps []*graphs.Param, ls []*layers.Linear) []*graphs.Param {
	for _, l := range ls {
		ps = append(ps, l.Weight, l.Bias)
	}
	return ps
}

// PowerIteration advances each spectral-norm estimate by one step, as
// PyTorch's spectral_norm does before every training-mode forward pass:
// v = W^T u / |W^T u|, u = W v / |W v|.
func (m *GAN) PowerIteration() {
	for _, sn := range m.SN {
		sn.Step()
	}
}

// Generator implements Adversarial: it maps z (B, LatentDim) and, for a
// conditional GAN, one-hot labels (B, Classes) to images in [-1, 1] of shape
// (B, ImageDim). The MLP has no normalization layers, so train changes
// nothing.
func (m *GAN) Generator(b *graphs.Bound, z, onehot *G.Node, _ bool) *G.Node {
	h := withLabels(b, z, onehot, m.GEmbed)
	for i, l := range m.Gen {
		h = l.Forward(b, h)
		if i < len(m.Gen)-1 {
			h = ops.LeakyReLU(h, m.Config.Slope)
		}
	}
	return must(G.Tanh(h))
}

// Discriminator implements Adversarial: it maps images x (B, ImageDim) to
// logits (B, 1). masks holds one dropout mask per hidden layer (entries 0 or
// 1/(1-p)), or is nil for no dropout; the caller draws them, so training
// stays reproducible. The MLP GAN has no code head.
func (m *GAN) Discriminator(b *graphs.Bound, x, onehot *G.Node, masks []*G.Node, _ bool) (logit, code *G.Node) {
	h := withLabels(b, x, onehot, m.DEmbed)
	for i, l := range m.Disc {
		h = l.Forward(b, h)
		if i < len(m.Disc)-1 {
			h = ops.LeakyReLU(h, m.Config.Slope)
			if masks != nil {
				h = must(G.HadamardProd(h, masks[i]))
			}
		}
	}
	return h, nil
}

// GANLosses returns the discriminator's and the generator's loss from the
// logits of real and generated images (each (B,1)), as batch means. smooth is
// one-sided label smoothing: D's target for real images is 1 - smooth.
func GANLosses(kind string, realLogits, fakeLogits *G.Node, smooth float64) (dLoss, gLoss *G.Node, err error) {
	err = graphs.Build("gan loss", func() {
		mean := func(x *G.Node) *G.Node { return must(G.Mean(x)) }
		switch kind {
		case LossBCE, LossMinimax:
			realTerm := mean(BCEWithLogits(realLogits, scalar(float32(1-smooth))))
			fakeTerm := mean(BCEWithLogits(fakeLogits, scalar(0)))
			dLoss = must(G.HadamardProd(must(G.Add(realTerm, fakeTerm)), scalar(0.5)))
			if kind == LossBCE {
				gLoss = mean(BCEWithLogits(fakeLogits, scalar(1)))
			} else {
				gLoss = must(G.Neg(mean(BCEWithLogits(fakeLogits, scalar(0)))))
			}
		case LossWGAN:
			dLoss = must(G.Sub(mean(fakeLogits), mean(realLogits)))
			gLoss = must(G.Neg(mean(fakeLogits)))
		case LossHinge:
			dLoss = must(G.Add(
				mean(must(G.Rectify(must(G.Sub(scalar(1), realLogits))))),
				mean(must(G.Rectify(must(G.Add(scalar(1), fakeLogits)))))))
			gLoss = must(G.Neg(mean(fakeLogits)))
		default:
			graphs.Fail(fmt.Errorf("unknown GAN loss %q (want %s, %s, %s or %s)", kind, LossBCE, LossMinimax, LossWGAN, LossHinge))
		}
	})
	return dLoss, gLoss, err
}

// The MLP GAN as an Adversarial.

// AllParams implements Adversarial.
func (m *GAN) AllParams() *graphs.ParamSet { return m.Params }

// LatentDim implements Adversarial.
func (m *GAN) LatentDim() int { return m.Config.LatentDim }

// Classes implements Adversarial.
func (m *GAN) Classes() int { return m.Config.Classes }

// Codes implements Adversarial: the MLP GAN has no InfoGAN code.
func (m *GAN) Codes() int { return 0 }

// ImageShape implements Adversarial: flat images.
func (m *GAN) ImageShape(batch int) []int { return []int{batch, m.Config.ImageDim} }

// GenNorms implements Adversarial: the MLP GAN's G has no normalization.
func (m *GAN) GenNorms() []*layers.BatchNorm { return nil }

// DropoutWidths implements Adversarial: one mask per hidden layer of D.
func (m *GAN) DropoutWidths() []int {
	if m.Config.DDropout == 0 {
		return nil
	}
	var w []int
	for _, l := range m.Disc[:len(m.Disc)-1] {
		w = append(w, l.Out)
	}
	return w
}
