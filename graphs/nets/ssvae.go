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

// Hidden-layer activations of the SSVAE's three MLPs.
const (
	// SoftplusActivation is log(1 + e^x), the paper's.
	SoftplusActivation = "softplus"
	// ReLUActivation is max(x, 0).
	ReLUActivation = "relu"
)

// Likelihoods of the SSVAE's decoder p(x|y,z).
const (
	// BernoulliLikelihood: x's values are probabilities of binary pixels,
	// the decoder's outputs their logits (model M2 on pixels).
	BernoulliLikelihood = "bernoulli"
	// GaussianLikelihood: x is real-valued, the decoder gives a mean and a
	// log-variance per value (model M2 over an M1 VAE's latents, M1+M2).
	GaussianLikelihood = "gaussian"
)

// SSVAEConfig is the architecture of the semi-supervised VAE.
type SSVAEConfig struct {
	InputDim   int    // pixels per image (784 for MNIST)
	Classes    int    // values of y (10 digits)
	LatentDim  int    // size of z (paper: 50)
	Hidden     []int  // hidden widths of each of the three MLPs (paper: 500)
	Activation string // SoftplusActivation or ReLUActivation
	Likelihood string // BernoulliLikelihood (when empty) or GaussianLikelihood
}

// gaussian reports whether p(x|y,z) is Gaussian.
func (c SSVAEConfig) gaussian() bool { return c.Likelihood == GaussianLikelihood }

// SSVAE is model M2 of Kingma et al. 2014, "Semi-Supervised Learning with
// Deep Generative Models": p(y) uniform, p(z) = N(0, I), p(x|y,z) Bernoulli
// with logits decoder([z, y]); inference q(y|x) = Cat(classifier(x)) and
// q(z|x,y) = N(mu, diag(exp(logvar))) from encoder([x, y]).
//
// Parameter names are those of a PyTorch module with three nn.Sequential
// MLPs (Linear layers at the even indices, activations between) and two
// heads: classifier.0, classifier.2 (784-500-10); encoder.0 (794-500, input
// cat([x, y], 1)); fc_mu, fc_var (500-50); decoder.0, decoder.2 (60-500-784,
// input cat([z, y], 1)). A Gaussian p(x|y,z) takes its mean from decoder's
// last layer and its log-variance from decoder_var, a second head on
// decoder's last hidden layer.
type SSVAE struct {
	Config     SSVAEConfig
	Params     *graphs.ParamSet
	Classifier []*layers.Linear
	Encoder    []*layers.Linear
	Mu, LogVar *layers.Linear
	Decoder    []*layers.Linear
	// DecoderLogVar is the Gaussian likelihood's log-variance head; nil
	// for a Bernoulli one.
	DecoderLogVar *layers.Linear
}

// NewSSVAE creates the model with PyTorch's default initialization drawn
// from rng.
func NewSSVAE(cfg SSVAEConfig, rng *rand.Rand) (*SSVAE, error) {
	if cfg.InputDim <= 0 || cfg.LatentDim <= 0 || cfg.Classes < 2 || len(cfg.Hidden) == 0 {
		return nil, fmt.Errorf("ssvae: input_dim and latent_dim must be positive, classes at least 2 and hidden non-empty")
	}
	for _, h := range cfg.Hidden {
		if h <= 0 {
			return nil, fmt.Errorf("ssvae: hidden widths must be positive, got %v", cfg.Hidden)
		}
	}
	if cfg.Activation != SoftplusActivation && cfg.Activation != ReLUActivation {
		return nil, fmt.Errorf("ssvae: activation %q is not %q or %q", cfg.Activation, SoftplusActivation, ReLUActivation)
	}
	if cfg.Likelihood == "" {
		cfg.Likelihood = BernoulliLikelihood
	}
	if cfg.Likelihood != BernoulliLikelihood && cfg.Likelihood != GaussianLikelihood {
		return nil, fmt.Errorf("ssvae: likelihood %q is not %q or %q", cfg.Likelihood, BernoulliLikelihood, GaussianLikelihood)
	}
	m := &SSVAE{Config: cfg, Params: graphs.NewParamSet()}
	mlp := func(name string, in int, out int) []*layers.Linear {
		var ls []*layers.Linear
		for i, h := range cfg.Hidden {
			ls = append(ls, layers.NewLinear(m.Params, fmt.Sprintf("%s.%d", name, 2*i), in, h, rng))
			in = h
		}
		if out > 0 {
			ls = append(ls, layers.NewLinear(m.Params, fmt.Sprintf("%s.%d", name, 2*len(cfg.Hidden)), in, out, rng))
		}
		return ls
	}
	last := cfg.Hidden[len(cfg.Hidden)-1]
	m.Classifier = mlp("classifier", cfg.InputDim, cfg.Classes)
	m.Encoder = mlp("encoder", cfg.InputDim+cfg.Classes, 0)
	m.Mu = layers.NewLinear(m.Params, "fc_mu", last, cfg.LatentDim, rng)
	m.LogVar = layers.NewLinear(m.Params, "fc_var", last, cfg.LatentDim, rng)
	m.Decoder = mlp("decoder", cfg.LatentDim+cfg.Classes, cfg.InputDim)
	if cfg.gaussian() {
		m.DecoderLogVar = layers.NewLinear(m.Params, "decoder_var", last, cfg.InputDim, rng)
	}
	return m, nil
}

// act is the hidden layers' activation.
func (m *SSVAE) act(x *G.Node) *G.Node {
	if m.Config.Activation == ReLUActivation {
		return ops.ReLU(x)
	}
	return ops.Softplus(x)
}

// mlp applies ls with the activation after every layer but the last, or
// after every layer when actAfterLast.
func (m *SSVAE) mlp(b *graphs.Bound, x *G.Node, ls []*layers.Linear, actAfterLast bool) *G.Node {
	for i, l := range ls {
		x = l.Forward(b, x)
		if i < len(ls)-1 || actAfterLast {
			x = m.act(x)
		}
	}
	return x
}

// Classify returns the logits of q(y|x) for x of shape (B, InputDim).
func (m *SSVAE) Classify(b *graphs.Bound, x *G.Node) *G.Node {
	return m.mlp(b, x, m.Classifier, false)
}

// Encode returns the mean and log-variance of q(z|x,y) for xy = cat([x, y], 1)
// of shape (B, InputDim+Classes).
func (m *SSVAE) Encode(b *graphs.Bound, xy *G.Node) (mu, logVar *G.Node) {
	return m.encodeFrom(b, m.Encoder[0].Forward(b, xy))
}

// encodeFrom finishes the encoder from its first layer's pre-activation.
func (m *SSVAE) encodeFrom(b *graphs.Bound, pre *G.Node) (mu, logVar *G.Node) {
	h := m.mlp(b, m.act(pre), m.Encoder[1:], true)
	return m.Mu.Forward(b, h), m.LogVar.Forward(b, h)
}

// Decode returns p(x|y,z) for z (B, LatentDim) and one-hot y (B,
// Classes): the Bernoulli logits, or the Gaussian mean and log-variance
// (logVar nil for a Bernoulli likelihood).
func (m *SSVAE) Decode(b *graphs.Bound, z, y *G.Node) (out, logVar *G.Node) {
	h := m.mlp(b, must(G.Concat(1, z, y)), m.Decoder[:len(m.Decoder)-1], true)
	out = m.Decoder[len(m.Decoder)-1].Forward(b, h)
	if m.DecoderLogVar != nil {
		logVar = m.DecoderLogVar.Forward(b, h)
	}
	return out, logVar
}

// reconstruction returns -log p(target|y,z) per row in nats.
func (m *SSVAE) reconstruction(b *graphs.Bound, z, y, target *G.Node) *G.Node {
	out, logVar := m.Decode(b, z, y)
	if logVar == nil {
		return ops.BCEWithLogitsRows(out, target)
	}
	// 0.5 sum_j [log 2 pi + lv_j + (t_j - mu_j)^2 exp(-lv_j)].
	sq := must(G.Square(must(G.Sub(target, out))))
	terms := must(G.Add(logVar, must(G.HadamardProd(sq, must(G.Exp(must(G.Neg(logVar))))))))
	perRow := must(G.Sum(terms, 1))
	log2pi := float32(float64(m.Config.InputDim) * math.Log(2*math.Pi))
	return must(G.HadamardProd(must(G.Add(perRow, scalar(log2pi))), scalar(0.5)))
}

// negELBO returns -L(x, y) per row in nats: the reconstruction loss of
// target under one posterior sample, KL(q(z|x,y) || N(0, I)) and
// -log p(y) = log(Classes), from the encoder's first pre-activation.
func (m *SSVAE) negELBO(b *graphs.Bound, pre, y, eps, target *G.Node) *G.Node {
	mu, logVar := m.encodeFrom(b, pre)
	std := must(G.Exp(must(G.HadamardProd(logVar, scalar(0.5)))))
	z := must(G.Add(mu, must(G.HadamardProd(std, eps))))
	recon := m.reconstruction(b, z, y, target)
	kl := must(G.Sum(must(G.HadamardProd(klTerms(mu, logVar), scalar(-0.5))), 1))
	return must(G.Add(must(G.Add(recon, kl)), scalar(float32(math.Log(float64(m.Config.Classes))))))
}

// enumerated holds the inputs of the encoder's first layer for every image
// of a batch paired with every class, rows class-major (row k*B+i is image i
// with class k). pre computes that layer as PyTorch's encoder.0 on
// cat([x, y], 1) would, but without repeating the image part of the product
// for each class: W [x; y] + b = W [x; 0] + (W [0; e_k] + b).
type enumerated struct {
	xPad, classes, oneHot *G.Node // (B, D+K) images with zero class columns; (K, D+K) [0; e_k] rows; (K*B, K)
	zero                  *G.Node // (1, H) zeros: the image part's bias
}

// newEnumerated creates the inputs, the constant ones filled, and returns
// the storage of xPad, the one filled before each run.
func (m *SSVAE) newEnumerated(g *G.ExprGraph, batch int) (enumerated, []float32) {
	d, k := m.Config.InputDim, m.Config.Classes
	var e enumerated
	var xPad, classes, oneHot []float32
	e.xPad, xPad = graphs.Input(g, "x_pad", batch, d+k)
	e.classes, classes = graphs.Input(g, "class_rows", k, d+k)
	e.oneHot, oneHot = graphs.Input(g, "y_enum", k*batch, k)
	e.zero, _ = graphs.Input(g, "zero_bias", 1, m.Encoder[0].Out)
	for c := 0; c < k; c++ {
		classes[c*(d+k)+d+c] = 1
		for i := 0; i < batch; i++ {
			oneHot[(c*batch+i)*k+c] = 1
		}
	}
	return e, xPad
}

// pre returns the encoder's first pre-activations, (K*B, H).
func (m *SSVAE) pre(b *graphs.Bound, e enumerated) *G.Node {
	first := m.Encoder[0]
	w := b.Node(first.Weight)
	images := ops.Linear(e.xPad, w, e.zero, true)                                // (B, H): W [x; 0]
	perClass := ops.Linear(e.classes, w, b.Node(first.Bias, 1, first.Out), true) // (K, H): W [0; e_k] + b
	tiled := make([]*G.Node, m.Config.Classes)
	for i := range tiled {
		tiled[i] = images
	}
	return must(G.Add(must(G.Concat(0, tiled...)), must(G.Mul(e.oneHot, perClass))))
}

// SSVAELossWeights scale the sums over a batch of the three terms of the
// loss (Kingma et al. 2014, eq. 9).
type SSVAELossWeights struct {
	Unlabelled     float64 // of sum_x -U(x) over the unlabelled images
	Labelled       float64 // of sum_(x,y) -L(x, y) over the labelled images
	Classification float64 // of sum_(x,y) -log q(y|x) over the labelled images
}

// SSVAETrainGraph is the loss of one batch of unlabelled and one of labelled
// images, with its inputs: fill them with SetUnlabelled and SetLabelled, and
// the noise EpsU and EpsL, before each run.
type SSVAETrainGraph struct {
	Bound                *graphs.Bound
	Unlabelled, Labelled int
	Weights              SSVAELossWeights

	XU, XUPad, TargetU []float32 // (Bu, D), (Bu, D+K), (K*Bu, D)
	EpsU               []float32 // (K*Bu, Z), rows class-major
	XL, XYL            []float32 // (Bl, D), (Bl, D+K)
	YL                 []float32 // (Bl, K)
	EpsL               []float32 // (Bl, Z)

	LogitsU, LogitsL *G.Node // of q(y|x)
	// Sums over the batch: -U(x) = sum_y q(y|x) (-L(x,y)) - H(q(y|x)) of
	// the unlabelled images, -L(x,y) and -log q(y|x) of the labelled ones.
	UnlabelledLoss, LabelledLoss, ClassLoss *G.Node
	Loss                                    *G.Node // the weighted sum
}

// BuildLoss builds the loss of Kingma et al. 2014 (eq. 9) on Bu unlabelled
// and Bl labelled images: for each unlabelled image the ELBO is enumerated
// over the classes and weighted by q(y|x), plus the entropy of q(y|x); for
// each labelled image it is the ELBO with its label, and -log q(y|x).
func (m *SSVAE) BuildLoss(unlabelled, labelled int, w SSVAELossWeights) (*SSVAETrainGraph, error) {
	if unlabelled <= 0 || labelled <= 0 {
		return nil, fmt.Errorf("ssvae: batches of %d unlabelled and %d labelled images", unlabelled, labelled)
	}
	d, k, zd := m.Config.InputDim, m.Config.Classes, m.Config.LatentDim
	t := &SSVAETrainGraph{Unlabelled: unlabelled, Labelled: labelled, Weights: w}
	err := graphs.Build("ssvae loss", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		t.Bound = b
		var xu, targetU, epsU, xl, xyl, yl, epsL *G.Node
		xu, t.XU = graphs.Input(g, "x_u", unlabelled, d)
		e, xPad := m.newEnumerated(g, unlabelled)
		t.XUPad = xPad
		targetU, t.TargetU = graphs.Input(g, "target_u", k*unlabelled, d)
		epsU, t.EpsU = graphs.Input(g, "eps_u", k*unlabelled, zd)
		xl, t.XL = graphs.Input(g, "x_l", labelled, d)
		xyl, t.XYL = graphs.Input(g, "xy_l", labelled, d+k)
		yl, t.YL = graphs.Input(g, "y_l", labelled, k)
		epsL, t.EpsL = graphs.Input(g, "eps_l", labelled, zd)

		// Unlabelled: sum_i [sum_k q_ik (-L(x_i, k)) + sum_k q_ik log q_ik].
		t.LogitsU = m.Classify(b, xu)
		logQ := ops.LogSoftmax(t.LogitsU) // (Bu, K)
		q := must(G.Exp(logQ))
		qByClass := ops.Reshape(must(G.Transpose(q)), k*unlabelled) // row k*Bu+i: q(k|x_i)
		negL := m.negELBO(b, m.pre(b, e), e.oneHot, epsU, targetU)
		expected := must(G.Sum(must(G.HadamardProd(qByClass, negL))))
		negEntropy := must(G.Sum(must(G.HadamardProd(q, logQ))))
		t.UnlabelledLoss = must(G.Add(expected, negEntropy))

		// Labelled: sum_j -L(x_j, y_j) and sum_j -log q(y_j|x_j).
		t.LabelledLoss = must(G.Sum(m.negELBO(b, m.Encoder[0].Forward(b, xyl), yl, epsL, xl)))
		t.LogitsL = m.Classify(b, xl)
		t.ClassLoss = must(G.Neg(must(G.Sum(must(G.HadamardProd(ops.LogSoftmax(t.LogitsL), yl))))))

		t.Loss = must(G.Add(must(G.Add(
			must(G.HadamardProd(t.UnlabelledLoss, scalar(float32(w.Unlabelled)))),
			must(G.HadamardProd(t.LabelledLoss, scalar(float32(w.Labelled)))))),
			must(G.HadamardProd(t.ClassLoss, scalar(float32(w.Classification))))))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// SetUnlabelled fills the unlabelled inputs from Bu images.
func (t *SSVAETrainGraph) SetUnlabelled(x []float32) {
	fillImages(x, t.Unlabelled, t.XU, t.XUPad, t.TargetU)
}

// SetLabelled fills the labelled inputs from Bl images and their labels.
func (t *SSVAETrainGraph) SetLabelled(x []float32, labels []uint8) {
	copy(t.XL, x)
	k := len(t.YL) / t.Labelled
	fillPairs(x, labels, k, t.XYL)
	clear(t.YL)
	for j, y := range labels[:t.Labelled] {
		t.YL[j*k+int(y)] = 1
	}
}

// fillImages copies batch images into the classifier's input x (B, D), the
// encoder's xPad (B, D+K, zero class columns) and, repeated for each class,
// the reconstruction target (K*B, D).
func fillImages(src []float32, batch int, x, xPad, target []float32) {
	d := len(x) / batch
	k := len(xPad)/batch - d
	copy(x, src[:batch*d])
	for i := 0; i < batch; i++ {
		copy(xPad[i*(d+k):i*(d+k)+d], src[i*d:(i+1)*d])
	}
	for c := 0; c < k; c++ {
		copy(target[c*batch*d:(c+1)*batch*d], src[:batch*d])
	}
}

// fillPairs writes cat([x, onehot(y)], 1) of each image into dst.
func fillPairs(x []float32, labels []uint8, classes int, dst []float32) {
	d := len(dst)/len(labels) - classes
	clear(dst)
	for j, y := range labels {
		copy(dst[j*(d+classes):j*(d+classes)+d], x[j*d:(j+1)*d])
		dst[j*(d+classes)+d+int(y)] = 1
	}
}

// SSVAEScoreGraph computes, per image of a batch, what evaluation needs:
// the logits of q(y|x) and -L(x, k) for every class k (one posterior sample
// each).
type SSVAEScoreGraph struct {
	Bound   *graphs.Bound
	Batch   int
	X       []float32 // (B, D): the classifier's input
	XPad    []float32 // (B, D+K): the encoder's images, zero class columns
	Target  []float32 // (K*B, D): the images scored, repeated per class
	Eps     []float32 // (K*B, Z)
	Logits  *G.Node   // (B, K)
	NegELBO *G.Node   // (K*B): -L(x_i, k) at row k*B+i
}

// BuildScores builds the evaluation graph for a batch size.
func (m *SSVAE) BuildScores(batch int) (*SSVAEScoreGraph, error) {
	d, k, zd := m.Config.InputDim, m.Config.Classes, m.Config.LatentDim
	s := &SSVAEScoreGraph{Batch: batch}
	err := graphs.Build("ssvae scores", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		s.Bound = b
		var x, target, eps *G.Node
		x, s.X = graphs.Input(g, "x", batch, d)
		e, xPad := m.newEnumerated(g, batch)
		s.XPad = xPad
		target, s.Target = graphs.Input(g, "target", k*batch, d)
		eps, s.Eps = graphs.Input(g, "eps", k*batch, zd)
		s.Logits = m.Classify(b, x)
		s.NegELBO = m.negELBO(b, m.pre(b, e), e.oneHot, eps, target)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SetImages fills the inputs: the classifier sees classify, the encoder and
// the likelihood score x (both B images; the same slice, or the gray images
// and a binarization of them).
func (s *SSVAEScoreGraph) SetImages(classify, x []float32) {
	fillImages(x, s.Batch, s.X, s.XPad, s.Target)
	copy(s.X, classify[:len(s.X)])
}

// SSVAEDecodeGraph maps latent codes and classes to images.
type SSVAEDecodeGraph struct {
	Bound *graphs.Bound
	Z, Y  []float32 // (B, Z), one-hot (B, K)
	Mean  *G.Node   // (B, D): the Bernoulli means sigmoid(logits), or the Gaussian means
}

// BuildDecoder builds p(x|y,z)'s mean for a batch size.
func (m *SSVAE) BuildDecoder(batch int) (*SSVAEDecodeGraph, error) {
	s := &SSVAEDecodeGraph{}
	err := graphs.Build("ssvae decoder", func() {
		g := G.NewGraph()
		s.Bound = graphs.Bind(g)
		var z, y *G.Node
		z, s.Z = graphs.Input(g, "z", batch, m.Config.LatentDim)
		y, s.Y = graphs.Input(g, "y", batch, m.Config.Classes)
		out, logVar := m.Decode(s.Bound, z, y)
		s.Mean = out
		if logVar == nil {
			s.Mean = must(G.Sigmoid(out))
		}
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SSVAEEncodeGraph infers a batch's classes and styles: the logits of
// q(y|x) and the mean of q(z|x,y) for a given y.
type SSVAEEncodeGraph struct {
	Bound  *graphs.Bound
	Batch  int
	X, XY  []float32 // (B, D) and cat([x, onehot(y)], 1) (B, D+K)
	Logits *G.Node   // (B, K)
	Mu     *G.Node   // (B, Z)
}

// BuildEncoder builds q(y|x) and q(z|x,y)'s mean for a batch size.
func (m *SSVAE) BuildEncoder(batch int) (*SSVAEEncodeGraph, error) {
	d, k := m.Config.InputDim, m.Config.Classes
	s := &SSVAEEncodeGraph{Batch: batch}
	err := graphs.Build("ssvae encoder", func() {
		g := G.NewGraph()
		s.Bound = graphs.Bind(g)
		var x, xy *G.Node
		x, s.X = graphs.Input(g, "x", batch, d)
		xy, s.XY = graphs.Input(g, "xy", batch, d+k)
		s.Logits = m.Classify(s.Bound, x)
		s.Mu, _ = m.Encode(s.Bound, xy)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SetPairs fills XY with cat([x, onehot(y)], 1) of Batch images and labels.
func (s *SSVAEEncodeGraph) SetPairs(x []float32, labels []uint8) {
	d := len(s.X) / s.Batch
	fillPairs(x, labels, len(s.XY)/s.Batch-d, s.XY)
}
