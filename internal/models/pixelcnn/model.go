// Package pixelcnn is the gated PixelCNN of van den Oord et al. 2016,
// "Conditional Image Generation with PixelCNN Decoders", on binarized
// MNIST: p(x) = prod_i p(x_i | x_<i) in raster order, each factor a
// Bernoulli whose logit the network computes for every pixel at once.
// Trained by maximum likelihood, judged by the test negative
// log-likelihood in nats per image, sampled pixel by pixel; optionally
// class-conditional.
package pixelcnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// classes is the number of classes of a conditional model: MNIST's digits.
const classes = 10

// The binarizations of the gray pixels.
const (
	// Dynamic draws each training pixel from Bernoulli(gray value) afresh
	// every time an image is used, and scores one fixed such draw of the
	// test set (the same for every run).
	Dynamic = "dynamic"
	// Threshold sets pixels >= 0.5 to 1, once, training and test alike.
	Threshold = "threshold"
)

// section is the `pixelcnn:` section of the configuration.
type section struct {
	Channels     int    `mapstructure:"channels"`
	Layers       int    `mapstructure:"layers"`
	FirstKernel  int    `mapstructure:"first_kernel"`
	Kernel       int    `mapstructure:"kernel"`
	Head         int    `mapstructure:"head"`
	Conditional  bool   `mapstructure:"conditional"`
	Binarization string `mapstructure:"binarization"`
}

// PixelCNN trains, samples and evaluates nets.PixelCNN on binary images.
type PixelCNN struct {
	Net    *nets.PixelCNN
	cfg    section
	common config.Common
	side   int

	step    *nets.PixelCNNGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
	ys      []int

	// The fixed binarization of the last test set scored.
	testOf  *data.Dataset
	testBin []float32
}

// New builds the PixelCNN.
func New(cfg *config.Config, common config.Common, _ models.Loader) (models.Model, error) {
	var s section
	if err := cfg.Decode("pixelcnn", &s); err != nil {
		return nil, err
	}
	if err := s.check(common); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	side := common.Data.ImageSide()
	c := 0
	if s.Conditional {
		c = classes
	}
	net, err := nets.NewPixelCNN(nets.PixelCNNConfig{
		Height: side, Width: side, InCategories: 2, OutCategories: 2,
		Channels: s.Channels, Layers: s.Layers, FirstKernel: s.FirstKernel, Kernel: s.Kernel,
		Head: s.Head, Classes: c,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &PixelCNN{Net: net, cfg: s, common: common, side: side}, nil
}

// check refuses settings the model cannot train with.
func (s section) check(common config.Common) error {
	switch {
	case s.Binarization != Dynamic && s.Binarization != Threshold:
		return fmt.Errorf("pixelcnn.binarization must be %s or %s, got %q", Dynamic, Threshold, s.Binarization)
	case s.Conditional && common.Data.Dataset != "mnist":
		return fmt.Errorf("a conditional pixelcnn needs labels: data.dataset must be mnist")
	}
	return nil
}

// binarize writes x as trained on into dst: dynamic draws each pixel from
// Bernoulli(x) with rng, threshold compares it with 0.5.
func (m *PixelCNN) binarize(dst, x []float32, rng *rand.Rand) {
	for i, p := range x {
		dst[i] = 0
		if m.cfg.Binarization == Threshold && p >= 0.5 || m.cfg.Binarization == Dynamic && rng.Float32() < p {
			dst[i] = 1
		}
	}
}

// testRNG draws the fixed binarization of the test set: its own seed, not
// the run's, so that every run is scored on the same binary images.
func testRNG() *rand.Rand { return rand.New(rand.NewPCG(0x42494e41, 0x54455354)) } // "BINA" "TEST"

// binaryTest returns test's pixels binarized as the model scores them.
func (m *PixelCNN) binaryTest(test *data.Dataset) []float32 {
	if m.testOf != test {
		m.testBin = make([]float32, len(test.Pixels))
		m.binarize(m.testBin, test.Pixels, testRNG())
		m.testOf = test
	}
	return m.testBin
}
