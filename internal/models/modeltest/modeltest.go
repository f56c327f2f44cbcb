// Package modeltest holds what the families' tests share: models built from
// their embedded defaults with overrides, a slice of real MNIST, and seeded
// generators. Only tests import it.
package modeltest

import (
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Set is an override of one config key, as --set key=value gives it.
func Set(key, value string) config.Override {
	return config.Override{Key: key, Value: value, Source: "test"}
}

// Config resolves a model's embedded defaults with overrides.
func Config(tb testing.TB, model string, overrides ...config.Override) *config.Config {
	tb.Helper()
	cfg, err := config.Load(model, "", overrides)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// New builds the named model with its family's build function from its
// defaults with overrides, freshly initialized, with deps as its
// dependencies' loader (nil: none).
func New(tb testing.TB, name string, build models.BuildFunc, deps models.Loader, overrides ...config.Override) models.Model {
	tb.Helper()
	e := models.Entry{Name: name, Build: build}
	m, err := e.New(Config(tb, name, overrides...), deps)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// MNIST returns the first 2048 training and the first n test images of
// MNIST, binarized at 0.5 when asked.
func MNIST(tb testing.TB, n int, binarize bool) (trainSet, testSet *data.Dataset) {
	tb.Helper()
	tr, te, err := data.LoadMNIST("")
	if err != nil {
		tb.Fatal(err)
	}
	tr, te = tr.Limit(2048), te.Limit(n)
	if binarize {
		tr, te = tr.Binarized(0.5), te.Binarized(0.5)
	}
	return tr, te
}

// RNG is a seeded generator for tests.
func RNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

// NoiseBatch is a batch of uniform noise 28x28 images: a training step's
// cost and shapes do not depend on the pixel values.
func NoiseBatch(size int) train.Batch {
	rng := rand.New(rand.NewPCG(1, 1))
	b := train.Batch{X: make([]float32, size*28*28), Size: size, H: 28, W: 28}
	for i := range b.X {
		b.X[i] = rng.Float32()
	}
	return b
}
