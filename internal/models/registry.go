// Package models connects each network of package graphs to the shared
// training loop, the samplers and the evaluator, and keeps the registry of
// model names. Adding a model is one file in graphs/, one YAML in configs/,
// one file here and one line in the registry below.
package models

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// Model is a trainable model with what `sample` and `eval` need.
type Model interface {
	train.Trainable
	// Evaluate scores the model on the test set; rng drives any sampling.
	Evaluate(test *data.Dataset, rng *rand.Rand) (Report, error)
	// Draw renders the picture kinds a model supports for `genmodel sample`
	// ("prior" for all; "recon", "interp", "manifold" for the VAE). The
	// returned grid options give its layout.
	Draw(req DrawRequest, test *data.Dataset, rng *rand.Rand) (sample.Images, sample.GridOptions, error)
	// Kinds lists the picture kinds Draw accepts, the default first.
	Kinds() []string
}

// ClassSampler is implemented by models that can be asked for a class.
type ClassSampler interface {
	Classes() int // 0 when the model was trained without labels
	SamplesOfClass(n, k int, rng *rand.Rand) (sample.Images, error)
}

// DrawRequest is what `genmodel sample` asks a model for.
type DrawRequest struct {
	Kind  string
	N     int
	Class int // a digit for a class-conditional model; -1 for none
}

// errNotConditional is the answer of models that cannot draw a given class.
func errNotConditional(model string) error {
	return fmt.Errorf("the %s is not class-conditional: --class needs a conditional model (gan with gan.conditional=true)", model)
}

// Report is the result of Evaluate: named figures in a fixed order, with a
// one-line description of how they were measured.
type Report struct {
	Model   string
	Images  int
	Metrics []train.Metric
	Notes   []string
}

type entry struct {
	summary string
	build   func(cfg *config.Config, common config.Common) (Model, error)
}

var registry = map[string]entry{
	"classifier":       {"convolutional MNIST classifier (conv32-conv64-fc128-fc10), the evaluator's feature network", newClassifier},
	"dcgan":            {"a convolutional GAN for 28x28 (resize-conv or transposed-conv G, strided-conv D, batch norm, DCGAN init); the GAN options of gan", newDCGAN},
	"ddpm":             {"denoising diffusion (eps-prediction, T=1000, linear or cosine betas) with the UNet-S network, EMA weights, DDPM and DDIM samplers", newDDPM},
	"gan":              {"the seed's MLP GAN (G 100-256-512-1024-784, D 784-512-256-1); bce, minimax, wgan or hinge loss, spectral norm, label smoothing, instance noise, conditional", newGAN},
	"glow":             {"Glow: 2 levels of ActNorm, LU 1x1 convolution and conv affine coupling, split with a learned prior; exact bits/dim", newGlow},
	"noisy-classifier": {"p(y | x_t, t) on noised MNIST digits, the classifier of ddpm's classifier guidance", newNoisyClassifier},
	"realnvp":          {"RealNVP: 8 MLP affine couplings with alternating pixel masks, dequantization + logit, exact bits/dim", newRealNVP},
	"vae":              {"variational autoencoder, the seed's 784-256-128-z20 MLP (Gaussian or Bernoulli decoder, beta, KL warm-up, free bits)", newVAE},
}

// Names lists the registered models, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Summary is a model's one-line description.
func Summary(name string) string { return registry[name].summary }

// Check returns an error naming the known models when name is not one.
func Check(name string) error {
	if _, ok := registry[name]; !ok {
		return fmt.Errorf("unknown model %q; known models: %s (see 'genmodel models')", name, strings.Join(Names(), ", "))
	}
	return nil
}

// New builds the named model from a resolved configuration, with freshly
// initialized weights.
func New(cfg *config.Config) (Model, error) {
	if err := Check(cfg.Model); err != nil {
		return nil, err
	}
	common, err := cfg.Common()
	if err != nil {
		return nil, err
	}
	return registry[cfg.Model].build(cfg, common)
}

// InitRNG is the generator of a model's initial weights: seeded by the run's
// seed on its own stream, so that initialization never shares numbers with
// data order or noise.
func InitRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x494e4954)) } // "INIT"

// newAdam creates an optimizer with the train section's settings.
func newAdam(t config.Train, params []*graphs.Param) *train.Adam {
	return train.NewAdam(train.AdamConfig{LR: t.LR, Beta1: t.Beta1, Beta2: t.Beta2, Eps: t.Eps, GradClip: t.GradClip}, params)
}
