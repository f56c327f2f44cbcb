package all

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/train"
)

// TestSharedOutputsChangeNoResult trains every registered model for a few
// steps on noise, and draws from those that sample, once with op outputs
// sharing storage (graphs' default) and once with every output kept apart:
// the losses, the parameters and the samples must agree bit for bit. A
// sharing plan that let two live outputs overlap would change them.
func TestSharedOutputsChangeNoResult(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every model twice")
	}
	for _, name := range models.Names() {
		t.Run(name, func(t *testing.T) {
			shared, err := trainFew(t, name, true)
			if err != nil {
				t.Skipf("does not train on noise alone: %v", err)
			}
			apart, err := trainFew(t, name, false)
			if err != nil {
				t.Fatalf("trains with shared outputs, not without: %v", err)
			}
			if len(shared) != len(apart) {
				t.Fatalf("%d numbers with shared outputs, %d without", len(shared), len(apart))
			}
			for i := range shared {
				if math.Float64bits(shared[i]) != math.Float64bits(apart[i]) {
					t.Fatalf("number %d: %v with shared outputs, %v without", i, shared[i], apart[i])
				}
			}
		})
	}
}

// trainFew builds a model with output sharing on or off, trains it for three
// steps on labelled noise and returns every metric, every parameter and, for a sampler, four
// samples, in one list.
func trainFew(t *testing.T, name string, share bool) ([]float64, error) {
	graphs.SetOutputSharing(share)
	defer graphs.SetOutputSharing(true)
	m := newModel(t, name)
	batch, rng := modeltest.NoiseBatch(configBatch(t, name)), rand.New(rand.NewPCG(3, 3))
	batch.Labels = make([]uint8, batch.Size) // for the classifiers
	for i := range batch.Labels {
		batch.Labels[i] = uint8(i % 10)
	}
	if u, ok := m.(train.TrainingSetUser); ok {
		// The semi-supervised VAE draws its labelled images from the
		// training set: hand it the same labelled noise.
		ds := &data.Dataset{Name: "noise", N: batch.Size, H: batch.H, W: batch.W, Pixels: batch.X, Labels: batch.Labels}
		if _, err := u.UseTrainingSet(ds); err != nil {
			return nil, err
		}
	}
	var out []float64
	for step := range int64(3) {
		ms, err := m.TrainStep(batch, step, rng)
		if err != nil {
			return nil, err
		}
		for _, x := range ms {
			out = append(out, x.Value)
		}
	}
	for _, p := range m.Params() {
		for _, v := range p.Data {
			out = append(out, float64(v))
		}
	}
	if s, ok := m.(train.Sampler); ok {
		imgs, err := s.Samples(4, rng)
		if err != nil {
			return nil, err
		}
		for _, v := range imgs.Pix {
			out = append(out, float64(v))
		}
	}
	return out, nil
}
