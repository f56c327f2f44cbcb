package nets

import (
	"fmt"
	"math/rand/v2"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// DCGAN is a deep convolutional GAN for 28x28 images after the recipe of
// Radford et al. 2016 (strided convolutions in D, transposed convolutions in
// G, batch normalization in both, ReLU in G and LeakyReLU(0.2) in D, Tanh
// output, weights from N(0, 0.02)), at the sizes of the MNIST DCGANs of
// PyTorch's and TensorFlow's tutorials. With c = Base:
//
//	generator:     fc(z -> 4c*7*7), bn0, relu, reshape (4c,7,7)
//	               deconv1 4x4 s2 (4c -> 2c), bn1, relu      14x14
//	               deconv2 4x4 s2 (2c -> 1), tanh            28x28
//	discriminator: conv1 4x4 s2 (1 -> c), lrelu             14x14
//	               conv2 4x4 s2 (c -> 2c), bn2, lrelu        7x7
//	               fc(2c*7*7 -> 1)
//
// Upsample "resize" swaps G's transposed convolutions for resize-convolutions
// (2x nearest upsampling, then a 3x3 convolution), which avoid the
// checkerboard artifacts of strided transposed convolutions (Odena et al.
// 2016) at twice G's compute:
//
//	generator:     fc(z -> 2c*7*7), bn0, relu, reshape (2c,7,7)
//	               up, conv1 3x3 (2c -> c), bn1, relu        14x14
//	               up, conv2 3x3 (c -> c/2), bn2, relu       28x28
//	               conv3 3x3 (c/2 -> 1), tanh
//
// SpectralNorm makes D the SNGAN discriminator of Miyato et al. 2018: each of
// its weights divided by its largest singular value, and no batch
// normalization (conv2 gets a bias instead).
//
// Classes > 0 makes a class-conditional DCGAN: G concatenates a learned
// label embedding (generator.label_emb.weight, Classes x Classes, as the MLP
// GAN) to z, and D is a projection discriminator (Miyato & Koyama 2018),
// logit = fc(h) + <embed(y), h> over D's last features h
// (discriminator.label_emb.weight, Classes x 2c*7*7).
//
// GHidden and DHidden add fully connected hidden layers, the shape of the
// MNIST GANs of InfoGAN (Chen et al. 2016) and of the original DCGAN code,
// which put one of 1024 units on each side: in G between z and fc, each
// followed by batch normalization and ReLU (generator.hidden.i,
// generator.hidden_bn.i); in D between the flattened conv2 features and fc,
// each followed by batch normalization (none with SpectralNorm) and
// LeakyReLU (discriminator.hidden.i, discriminator.hidden_bn.i). D's heads
// (fc, q, the projection) then read the last hidden layer. Without them G's
// 7x7 layout is one linear map of z, so nearby z can only blend between
// digits; a hidden layer lets G switch sharply from one digit to another.
//
// Codes > 0 adds the categorical latent code of InfoGAN (Chen et al. 2016):
// G takes a one-hot code c, drawn uniformly, concatenated to z, and D gets a
// second head Q (discriminator.q, a linear map of D's last features h to
// code logits) trained, with G, to recover c from G(z, c). Maximizing this
// lower bound on the mutual information of c and G(z, c) makes G give each
// code a mode of its own (on MNIST, mostly a digit each) without labels: the
// generator's image is then a union of separate pieces, as the data's is,
// rather than one connected piece that must pass through non-digits between
// classes.
//
// Parameter names are those of a PyTorch module with these attributes under
// `generator` and `discriminator`.
type DCGAN struct {
	DCGANConfig
	Params *graphs.ParamSet

	GFC              *layers.Linear
	GBN0, GBN1, GBN2 *layers.BatchNorm
	GDeconv1         *layers.ConvTranspose2d // transposed G
	GDeconv2         *layers.ConvTranspose2d
	GConv1, GConv2   *layers.Conv2d // resize G
	GConv3           *layers.Conv2d
	DConv1, DConv2   *layers.Conv2d
	DBN2             *layers.BatchNorm // nil with SpectralNorm
	DFC              *layers.Linear
	SN               []*layers.SpectralNorm // D's conv1, conv2 and fc with SpectralNorm
	GEmbed, DEmbed   *graphs.Param          // label embeddings of a conditional DCGAN
	DQ               *layers.Linear         // InfoGAN's code head, with Codes > 0
	GHiddenFC        []*layers.Linear       // G's hidden layers (GHidden)
	GHiddenBN        []*layers.BatchNorm
	DHiddenFC        []*layers.Linear    // D's hidden layers (DHidden)
	DHiddenBN        []*layers.BatchNorm // nil with SpectralNorm
}

// DCGANConfig sizes a DCGAN.
type DCGANConfig struct {
	Latent, Base int
	Slope        float64
	Upsample     string  // UpsampleTransposed or UpsampleResize
	SpectralNorm bool    // spectral normalization in D instead of batch normalization
	Classes      int     // 0, or the number of classes of a conditional DCGAN
	DiscBase     int     // D's channels c (0: Base), so D can be wider than G
	DDropout     float64 // dropout after each of D's LeakyReLUs (0: none)
	Codes        int     // 0, or the categories of an InfoGAN code (exclusive with Classes)
	GHidden      []int   // widths of G's hidden fully connected layers, before fc (none: fc reads z)
	DHidden      []int   // widths of D's hidden fully connected layers, after conv2
}

// discBase is D's channel count c: D goes c -> 2c.
func (cfg DCGANConfig) discBase() int {
	if cfg.DiscBase > 0 {
		return cfg.DiscBase
	}
	return cfg.Base
}

// The ways the DCGAN's generator can double its images' side.
const (
	UpsampleTransposed = "transposed"
	UpsampleResize     = "resize"
)

// NewDCGAN creates a DCGAN with the DCGAN recipe's initialization.
func NewDCGAN(cfg DCGANConfig, rng *rand.Rand) (*DCGAN, error) {
	latent, base := cfg.Latent, cfg.Base
	if latent <= 0 || base < 2 || base%2 != 0 || cfg.Classes < 0 || cfg.DiscBase < 0 {
		return nil, fmt.Errorf("dcgan: latent_dim must be positive and base_channels an even number >= 2")
	}
	if cfg.Codes < 0 || cfg.Codes > 0 && cfg.Classes > 0 {
		return nil, fmt.Errorf("dcgan: info_codes must not be negative, and excludes conditional (codes are learned labels); set one of them")
	}
	if slices.ContainsFunc(cfg.GHidden, nonPositive) || slices.ContainsFunc(cfg.DHidden, nonPositive) {
		return nil, fmt.Errorf("dcgan: g_hidden and d_hidden must list positive widths, got %v and %v", cfg.GHidden, cfg.DHidden)
	}
	if cfg.DDropout < 0 || cfg.DDropout >= 1 {
		return nil, fmt.Errorf("dcgan: d_dropout must be in [0, 1), got %g", cfg.DDropout)
	}
	if cfg.Upsample != UpsampleTransposed && cfg.Upsample != UpsampleResize {
		return nil, fmt.Errorf("dcgan: upsample %q is not %s or %s", cfg.Upsample, UpsampleTransposed, UpsampleResize)
	}
	const std = 0.02
	ps := graphs.NewParamSet()
	m := &DCGAN{DCGANConfig: cfg, Params: ps}
	if cfg.Classes > 0 {
		m.GEmbed = ps.Add("generator.label_emb.weight", cfg.Classes, cfg.Classes)
		layers.NormalInit(m.GEmbed, 1, rng) // nn.Embedding's N(0, 1)
		latent += cfg.Classes
	}
	latent += cfg.Codes // the code's one-hot goes to G as it is, as InfoGAN's does
	for i, width := range cfg.GHidden {
		m.GHiddenFC = append(m.GHiddenFC, normalLinear(ps, fmt.Sprintf("generator.hidden.%d", i), latent, width, std, rng))
		m.GHiddenBN = append(m.GHiddenBN, layers.NewBatchNorm(ps, fmt.Sprintf("generator.hidden_bn.%d", i), width, std, rng))
		latent = width
	}
	if cfg.Upsample == UpsampleTransposed {
		m.GFC = layers.NewLinear(ps, "generator.fc", latent, 4*base*49, rng)
		layers.NormalInit(m.GFC.Weight, std, rng)
		clear(m.GFC.Bias.Data)
		m.GBN0 = layers.NewBatchNorm(ps, "generator.bn0", 4*base, std, rng)
		m.GDeconv1 = layers.NewConvTranspose2dNoBias(ps, "generator.deconv1", 4*base, 2*base, 4, 2, 1, std, rng)
		m.GBN1 = layers.NewBatchNorm(ps, "generator.bn1", 2*base, std, rng)
		m.GDeconv2 = layers.NewConvTranspose2dNoBias(ps, "generator.deconv2", 2*base, 1, 4, 2, 1, std, rng)
	} else {
		m.GFC = layers.NewLinear(ps, "generator.fc", latent, 2*base*49, rng)
		layers.NormalInit(m.GFC.Weight, std, rng)
		clear(m.GFC.Bias.Data)
		m.GBN0 = layers.NewBatchNorm(ps, "generator.bn0", 2*base, std, rng)
		m.GConv1 = layers.NewConv2dNoBias(ps, "generator.conv1", 2*base, base, 3, 1, 1, std, rng)
		m.GBN1 = layers.NewBatchNorm(ps, "generator.bn1", base, std, rng)
		m.GConv2 = layers.NewConv2dNoBias(ps, "generator.conv2", base, base/2, 3, 1, 1, std, rng)
		m.GBN2 = layers.NewBatchNorm(ps, "generator.bn2", base/2, std, rng)
		m.GConv3 = layers.NewConv2d(ps, "generator.conv3", base/2, 1, 3, 1, 1, rng)
		layers.NormalInit(m.GConv3.Weight, std, rng)
		clear(m.GConv3.Bias.Data)
	}
	base = m.discBase()
	features := 2 * base * 49 // what D's heads read: conv2's, or the last hidden layer's
	if n := len(cfg.DHidden); n > 0 {
		features = cfg.DHidden[n-1]
	}
	if cfg.Classes > 0 {
		m.DEmbed = ps.Add("discriminator.label_emb.weight", cfg.Classes, features)
		layers.NormalInit(m.DEmbed, std, rng)
	}
	if cfg.Codes > 0 {
		m.DQ = normalLinear(ps, "discriminator.q", features, cfg.Codes, std, rng)
	}
	// D's linear layers: spectrally normalized, or N(0, std) with batch
	// normalization after each hidden one.
	dLinear := func(name string, in, out int) *layers.Linear {
		if cfg.SpectralNorm {
			return m.spectralLinear(ps, name, in, out, rng)
		}
		return normalLinear(ps, name, in, out, std, rng)
	}
	if cfg.SpectralNorm {
		m.DConv1 = m.spectralConv(ps, "discriminator.conv1", 1, base, rng)
		m.DConv2 = m.spectralConv(ps, "discriminator.conv2", base, 2*base, rng)
	} else {
		m.DConv1 = layers.NewConv2d(ps, "discriminator.conv1", 1, base, 4, 2, 1, rng)
		layers.NormalInit(m.DConv1.Weight, std, rng)
		clear(m.DConv1.Bias.Data)
		m.DConv2 = layers.NewConv2dNoBias(ps, "discriminator.conv2", base, 2*base, 4, 2, 1, std, rng)
		m.DBN2 = layers.NewBatchNorm(ps, "discriminator.bn2", 2*base, std, rng)
	}
	in := 2 * base * 49
	for i, width := range cfg.DHidden {
		m.DHiddenFC = append(m.DHiddenFC, dLinear(fmt.Sprintf("discriminator.hidden.%d", i), in, width))
		if !cfg.SpectralNorm {
			m.DHiddenBN = append(m.DHiddenBN, layers.NewBatchNorm(ps, fmt.Sprintf("discriminator.hidden_bn.%d", i), width, std, rng))
		}
		in = width
	}
	m.DFC = dLinear("discriminator.fc", features, 1)
	return m, nil
}

func nonPositive(n int) bool { return n <= 0 }

// normalLinear adds a linear layer with the DCGAN recipe's N(0, std) weights
// and a zero bias.
func normalLinear(ps *graphs.ParamSet, name string, in, out int, std float64, rng *rand.Rand) *layers.Linear {
	l := layers.NewLinear(ps, name, in, out, rng)
	layers.NormalInit(l.Weight, std, rng)
	clear(l.Bias.Data)
	return l
}

// spectralLinear adds one of D's linear layers with a spectrally normalized
// weight (name.weight_orig, N(0, 0.02)) and a zero bias.
func (m *DCGAN) spectralLinear(ps *graphs.ParamSet, name string, in, out int, rng *rand.Rand) *layers.Linear {
	l := &layers.Linear{In: in, Out: out, Weight: ps.Add(name+".weight_orig", out, in), Bias: ps.Add(name+".bias", out)}
	layers.NormalInit(l.Weight, 0.02, rng)
	l.SN = layers.NewSpectralNorm(ps, name, l.Weight, rng)
	m.SN = append(m.SN, l.SN)
	return l
}

// spectralConv adds one of D's 4x4 stride-2 convolutions with a spectrally
// normalized weight (name.weight_orig, N(0, 0.02)) and a zero bias.
func (m *DCGAN) spectralConv(ps *graphs.ParamSet, name string, in, out int, rng *rand.Rand) *layers.Conv2d {
	c := &layers.Conv2d{In: in, Out: out, Kernel: 4, Stride: 2, Pad: 1,
		Weight: ps.Add(name+".weight_orig", out, in, 4, 4), Bias: ps.Add(name+".bias", out)}
	layers.NormalInit(c.Weight, 0.02, rng)
	c.SN = layers.NewSpectralNorm(ps, name, c.Weight, rng)
	m.SN = append(m.SN, c.SN)
	return c
}

// AllParams implements Adversarial.
func (m *DCGAN) AllParams() *graphs.ParamSet { return m.Params }

// GenParams implements Adversarial: G's weights and BN affine parameters.
func (m *DCGAN) GenParams() []*graphs.Param {
	ps := embedParams(m.GEmbed)
	for i, l := range m.GHiddenFC {
		ps = append(ps, l.Weight, l.Bias)
		ps = append(ps, m.GHiddenBN[i].Trainable()...)
	}
	ps = append(ps, m.GFC.Weight, m.GFC.Bias)
	ps = append(ps, m.GBN0.Trainable()...)
	if m.Upsample == UpsampleTransposed {
		ps = append(ps, m.GDeconv1.Weight)
		ps = append(ps, m.GBN1.Trainable()...)
		return append(ps, m.GDeconv2.Weight)
	}
	ps = append(ps, m.GConv1.Weight)
	ps = append(ps, m.GBN1.Trainable()...)
	ps = append(ps, m.GConv2.Weight)
	ps = append(ps, m.GBN2.Trainable()...)
	return append(ps, m.GConv3.Weight, m.GConv3.Bias)
}

// DiscParams implements Adversarial.
func (m *DCGAN) DiscParams() []*graphs.Param {
	ps := embedParams(m.DEmbed)
	if m.DQ != nil {
		ps = append(ps, m.DQ.Weight, m.DQ.Bias)
	}
	ps = append(ps, m.DConv1.Weight, m.DConv1.Bias, m.DConv2.Weight)
	if m.DBN2 != nil {
		ps = append(ps, m.DBN2.Trainable()...)
	} else {
		ps = append(ps, m.DConv2.Bias)
	}
	for i, l := range m.DHiddenFC {
		ps = append(ps, l.Weight, l.Bias)
		if m.DHiddenBN != nil {
			ps = append(ps, m.DHiddenBN[i].Trainable()...)
		}
	}
	return append(ps, m.DFC.Weight, m.DFC.Bias)
}

// PowerIteration implements Adversarial.
func (m *DCGAN) PowerIteration() {
	for _, sn := range m.SN {
		sn.Step()
	}
}

// LatentDim implements Adversarial.
func (m *DCGAN) LatentDim() int { return m.Latent }

// Classes implements Adversarial.
func (m *DCGAN) Classes() int { return m.DCGANConfig.Classes }

// Codes implements Adversarial.
func (m *DCGAN) Codes() int { return m.DCGANConfig.Codes }

// ImageShape implements Adversarial: (B, 1, 28, 28).
func (m *DCGAN) ImageShape(batch int) []int { return []int{batch, 1, 28, 28} }

// GenNorms implements Adversarial.
func (m *DCGAN) GenNorms() []*layers.BatchNorm {
	norms := append(slices.Clone(m.GHiddenBN), m.GBN0, m.GBN1)
	if m.GBN2 != nil {
		norms = append(norms, m.GBN2)
	}
	return norms
}

// DropoutWidths implements Adversarial: with DDropout, one mask after each of
// D's LeakyReLUs, over all its features (c x 14 x 14, then 2c x 7 x 7, then
// each hidden layer's).
func (m *DCGAN) DropoutWidths() []int {
	if m.DDropout == 0 {
		return nil
	}
	c := m.discBase()
	return append([]int{c * 14 * 14, 2 * c * 7 * 7}, m.DHidden...)
}

// Generator implements Adversarial.
func (m *DCGAN) Generator(b *graphs.Bound, z, onehot *G.Node, train bool) *G.Node {
	batch := z.Shape()[0]
	z = withLabels(b, z, onehot, m.GEmbed)
	if m.DCGANConfig.Codes > 0 {
		z = must(G.Concat(1, z, onehot))
	}
	for i, l := range m.GHiddenFC {
		z = ops.ReLU(m.GHiddenBN[i].Forward(b, l.Forward(b, z), train))
	}
	if m.Upsample == UpsampleTransposed {
		h := ops.Reshape(m.GFC.Forward(b, z), batch, 4*m.Base, 7, 7)
		h = ops.ReLU(m.GBN0.Forward(b, h, train))
		h = ops.ReLU(m.GBN1.Forward(b, m.GDeconv1.Forward(b, h), train))
		return must(G.Tanh(m.GDeconv2.Forward(b, h)))
	}
	h := ops.Reshape(m.GFC.Forward(b, z), batch, 2*m.Base, 7, 7)
	h = ops.ReLU(m.GBN0.Forward(b, h, train))
	h = m.GConv1.Forward(b, ops.Upsample2x(h))
	h = ops.ReLU(m.GBN1.Forward(b, h, train))
	h = m.GConv2.Forward(b, ops.Upsample2x(h))
	h = ops.ReLU(m.GBN2.Forward(b, h, train))
	return must(G.Tanh(m.GConv3.Forward(b, h)))
}

// Discriminator implements Adversarial.
func (m *DCGAN) Discriminator(b *graphs.Bound, x, onehot *G.Node, masks []*G.Node, train bool) (logit, code *G.Node) {
	c := m.discBase()
	batch, features := x.Shape()[0], 2*c*49
	h := ops.LeakyReLU(m.DConv1.Forward(b, x), m.Slope)
	if masks != nil {
		h = must(G.HadamardProd(h, ops.Reshape(masks[0], batch, c, 14, 14)))
	}
	h = m.DConv2.Forward(b, h)
	if m.DBN2 != nil {
		h = m.DBN2.Forward(b, h, train)
	}
	h = ops.Reshape(ops.LeakyReLU(h, m.Slope), batch, features)
	if masks != nil {
		h = must(G.HadamardProd(h, masks[1]))
	}
	for i, l := range m.DHiddenFC {
		h = l.Forward(b, h)
		if m.DHiddenBN != nil {
			h = m.DHiddenBN[i].Forward(b, h, train)
		}
		h = ops.LeakyReLU(h, m.Slope)
		if masks != nil {
			h = must(G.HadamardProd(h, masks[2+i]))
		}
	}
	logit = m.DFC.Forward(b, h)
	if m.DQ != nil {
		code = m.DQ.Forward(b, h)
	}
	if m.DEmbed == nil {
		return logit, code
	}
	// The projection term <embed(y), h>, one per image.
	proj := must(G.Sum(must(G.HadamardProd(must(G.Mul(onehot, b.Node(m.DEmbed))), h)), 1))
	return must(G.Add(logit, ops.Reshape(proj, batch, 1))), code
}
