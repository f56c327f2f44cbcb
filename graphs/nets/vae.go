package nets

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
)

// Decoder likelihoods of the VAE.
const (
	// GaussianDecoder scores a reconstruction by the summed squared error, the
	// seed's choice: a Gaussian likelihood with fixed variance, up to constants.
	GaussianDecoder = "gaussian"
	// BernoulliDecoder treats the output as per-pixel logits of binary pixels
	// (binary cross-entropy), the standard likelihood for binarized MNIST.
	BernoulliDecoder = "bernoulli"
)

// VAEConfig is the architecture of the VAE.
type VAEConfig struct {
	InputDim  int    // pixels per image (784 for MNIST)
	Hidden    []int  // encoder widths; the decoder mirrors them (seed: 256, 128)
	LatentDim int    // size of z (seed: 20)
	Decoder   string // GaussianDecoder or BernoulliDecoder
	FreeBits  float64
}

// VAE is the seed's variational autoencoder. Parameter names follow the seed's
// PyTorch module: encoder.0, encoder.2 (Linear layers of an nn.Sequential with
// ReLUs at the odd indices), fc_mu, fc_var, decoder.0, decoder.2, decoder.4.
type VAE struct {
	Config  VAEConfig
	Params  *graphs.ParamSet
	Encoder []*layers.Linear
	Mu      *layers.Linear
	LogVar  *layers.Linear
	Decoder []*layers.Linear
}

// NewVAE creates a VAE with PyTorch's default initialization drawn from rng.
func NewVAE(cfg VAEConfig, rng *rand.Rand) (*VAE, error) {
	if cfg.InputDim <= 0 || cfg.LatentDim <= 0 || len(cfg.Hidden) == 0 {
		return nil, fmt.Errorf("vae: input_dim, latent_dim and hidden must be positive and non-empty")
	}
	for _, h := range cfg.Hidden {
		if h <= 0 {
			return nil, fmt.Errorf("vae: hidden widths must be positive, got %v", cfg.Hidden)
		}
	}
	if cfg.Decoder != GaussianDecoder && cfg.Decoder != BernoulliDecoder {
		return nil, fmt.Errorf("vae: decoder %q is not %q or %q", cfg.Decoder, GaussianDecoder, BernoulliDecoder)
	}
	m := &VAE{Config: cfg, Params: graphs.NewParamSet()}
	in := cfg.InputDim
	for i, h := range cfg.Hidden {
		m.Encoder = append(m.Encoder, layers.NewLinear(m.Params, fmt.Sprintf("encoder.%d", 2*i), in, h, rng))
		in = h
	}
	m.Mu = layers.NewLinear(m.Params, "fc_mu", in, cfg.LatentDim, rng)
	m.LogVar = layers.NewLinear(m.Params, "fc_var", in, cfg.LatentDim, rng)
	in = cfg.LatentDim
	for i := range cfg.Hidden {
		h := cfg.Hidden[len(cfg.Hidden)-1-i]
		m.Decoder = append(m.Decoder, layers.NewLinear(m.Params, fmt.Sprintf("decoder.%d", 2*i), in, h, rng))
		in = h
	}
	m.Decoder = append(m.Decoder, layers.NewLinear(m.Params, fmt.Sprintf("decoder.%d", 2*len(cfg.Hidden)), in, cfg.InputDim, rng))
	return m, nil
}

// Encode returns the posterior mean and log-variance for x of shape (B, InputDim).
func (m *VAE) Encode(b *graphs.Bound, x *G.Node) (mu, logVar *G.Node) {
	h := layers.MLP(b, x, m.Encoder, true)
	return m.Mu.Forward(b, h), m.LogVar.Forward(b, h)
}

// Decode maps z of shape (B, LatentDim) to the decoder's raw output: pixel
// values for the Gaussian decoder, logits for the Bernoulli decoder.
func (m *VAE) Decode(b *graphs.Bound, z *G.Node) *G.Node {
	return layers.MLP(b, z, m.Decoder, false)
}

// Mean maps the decoder's raw output to the expected image.
func (m *VAE) Mean(out *G.Node) *G.Node {
	if m.Config.Decoder == BernoulliDecoder {
		return must(G.Sigmoid(out))
	}
	return out
}

// VAETrainGraph is the VAE's loss on one batch size, with its inputs.
type VAETrainGraph struct {
	Bound *graphs.Bound
	// Inputs, filled before each run: images, standard normal noise for the
	// reparameterization, and the weight of the KL term (beta times the
	// annealing factor), which changes over training.
	X, Eps                  []float32
	KLWeight                *G.F32
	XNode, EpsNode, KLWNode *G.Node
	Mu, LogVar, Recon       *G.Node // Recon is the decoder's raw output
	ReconLoss, KL, Loss     *G.Node // sums over the batch
	KLPenalty               *G.Node // the KL term as optimized (after free bits)
	Batch                   int
}

// BuildLoss builds the negative ELBO of a batch: reconstruction loss plus the
// weighted KL divergence KL(q(z|x) || N(0, I)), both summed over the batch as
// the seed's loss_function does. With FreeBits > 0 the optimized KL of each
// latent dimension (averaged over the batch) is floored at FreeBits nats
// (Kingma et al. 2016); ReconLoss and KL stay the true values for reporting.
func (m *VAE) BuildLoss(batch int) (*VAETrainGraph, error) {
	t := &VAETrainGraph{Batch: batch}
	err := graphs.Build("vae loss", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		t.Bound = b
		t.XNode, t.X = graphs.Input(g, "x", batch, m.Config.InputDim)
		t.EpsNode, t.Eps = graphs.Input(g, "eps", batch, m.Config.LatentDim)
		// Gorgonia keeps a scalar's value behind this pointer: setting
		// *t.KLWeight changes the next run.
		t.KLWeight = new(G.F32)
		t.KLWNode = G.NewScalar(g, tensor.Float32, G.WithName("kl_weight"), G.WithValue(t.KLWeight))

		t.Mu, t.LogVar = m.Encode(b, t.XNode)
		std := must(G.Exp(must(G.HadamardProd(t.LogVar, scalar(0.5)))))
		z := must(G.Add(t.Mu, must(G.HadamardProd(std, t.EpsNode))))
		t.Recon = m.Decode(b, z)
		t.ReconLoss = m.reconstructionLoss(t.Recon, t.XNode)

		// KL per element: -0.5 * (1 + logvar - mu^2 - exp(logvar)).
		klElems := must(G.HadamardProd(klTerms(t.Mu, t.LogVar), scalar(-0.5)))
		t.KL = must(G.Sum(klElems))
		t.KLPenalty = t.KL
		if m.Config.FreeBits > 0 {
			// max(KL_j, lambda) = lambda + relu(KL_j - lambda), per dimension j,
			// on the batch mean, scaled back to a batch sum.
			perDim := must(G.HadamardProd(must(G.Sum(klElems, 0)), scalar(1/float32(batch))))
			lambda := scalar(float32(m.Config.FreeBits))
			floored := must(G.Add(must(G.Rectify(must(G.Sub(perDim, lambda)))), lambda))
			t.KLPenalty = must(G.HadamardProd(must(G.Sum(floored)), scalar(float32(batch))))
		}
		t.Loss = must(G.Add(t.ReconLoss, must(G.HadamardProd(t.KLPenalty, t.KLWNode))))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// reconstructionLoss is the summed negative log-likelihood of x under the
// decoder output, up to the constants of the Gaussian.
func (m *VAE) reconstructionLoss(out, x *G.Node) *G.Node {
	if m.Config.Decoder == BernoulliDecoder {
		return must(G.Sum(BCEWithLogits(out, x)))
	}
	return must(G.Sum(must(G.Square(must(G.Sub(out, x))))))
}

// klTerms returns 1 + logvar - mu^2 - exp(logvar), elementwise.
func klTerms(mu, logVar *G.Node) *G.Node {
	t := must(G.Add(logVar, scalar(1)))
	t = must(G.Sub(t, must(G.Square(mu))))
	return must(G.Sub(t, must(G.Exp(logVar))))
}

// VAEScoreGraph computes, per image of a batch, what evaluation needs: the
// posterior parameters and the reconstruction loss of one posterior sample.
type VAEScoreGraph struct {
	Bound            *graphs.Bound
	X, Eps           []float32
	Mu, LogVar       *G.Node // (B, LatentDim)
	ReconPerImage    *G.Node // (B): summed over pixels
	Batch, LatentDim int
}

// BuildScores builds the per-image evaluation graph for a batch size.
func (m *VAE) BuildScores(batch int) (*VAEScoreGraph, error) {
	s := &VAEScoreGraph{Batch: batch, LatentDim: m.Config.LatentDim}
	err := graphs.Build("vae scores", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		s.Bound = b
		var x, eps *G.Node
		x, s.X = graphs.Input(g, "x", batch, m.Config.InputDim)
		eps, s.Eps = graphs.Input(g, "eps", batch, m.Config.LatentDim)
		s.Mu, s.LogVar = m.Encode(b, x)
		std := must(G.Exp(must(G.HadamardProd(s.LogVar, scalar(0.5)))))
		z := must(G.Add(s.Mu, must(G.HadamardProd(std, eps))))
		out := m.Decode(b, z)
		var perPixel *G.Node
		if m.Config.Decoder == BernoulliDecoder {
			perPixel = BCEWithLogits(out, x)
		} else {
			perPixel = must(G.Square(must(G.Sub(out, x))))
		}
		// A sum over the last axis of a matrix: the reduction Gorgonia gets right.
		s.ReconPerImage = must(G.Sum(perPixel, 1))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
