package gan

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Evaluate implements models.Model: a GAN has no likelihood; its figures are the
// evaluator's, of its samples.
func (m *GAN) Evaluate(test *data.Dataset, _ *rand.Rand) (models.Report, error) {
	return models.Report{Model: m.name, Notes: []string{"a GAN has no likelihood: see the evaluator's figures of its samples"}}, nil
}

// CheckEpoch implements train.EpochChecker: it names the failures of the game
// that the epoch's mean D outputs show.
func (m *GAN) CheckEpoch(ms []train.Metric) []string {
	if m.cfg.Loss != nets.LossBCE && m.cfg.Loss != nets.LossMinimax {
		return nil // critic values of WGAN and hinge have no fixed scale
	}
	get := func(name string) float64 {
		for _, x := range ms {
			if x.Name == name {
				return x.Value
			}
		}
		return 0.5
	}
	dx, dgz := get("d_x"), get("d_g_z1")
	var warnings []string
	if dx > 0.95 && dgz < 0.05 {
		warnings = append(warnings, fmt.Sprintf("the discriminator wins (mean D(x) %.3f, D(G(z)) %.3f): the generator's gradient vanishes; try %[3]s.label_smoothing=0.1, %[3]s.instance_noise=0.1 or %[3]s.spectral_norm=true", dx, dgz, m.name))
	}
	if dx < 0.2 && dgz > 0.8 {
		warnings = append(warnings, fmt.Sprintf("the game diverged (mean D(x) %.3f, D(G(z)) %.3f): D calls generated images real and real ones fake", dx, dgz))
	}
	if spread, err := m.sampleSpread(); err == nil && spread < 0.05 {
		warnings = append(warnings, fmt.Sprintf("mode collapse: 64 samples from different noise differ by a mean pixel std of %.3f (MNIST: about 0.3)", spread))
	}
	return warnings
}

// sampleSpread is the mean over pixels of the standard deviation across 64
// samples: near zero when G maps all noise to one image.
func (m *GAN) sampleSpread() (float64, error) {
	imgs, err := m.render(64, -1, 1, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return 0, err
	}
	d := imgs.H * imgs.W
	var total float64
	for p := 0; p < d; p++ {
		var s, s2 float64
		for i := 0; i < imgs.N; i++ {
			v := float64(imgs.Pix[i*d+p])
			s += v
			s2 += v * v
		}
		mean := s / float64(imgs.N)
		total += math.Sqrt(math.Max(0, s2/float64(imgs.N)-mean*mean))
	}
	return total / float64(d), nil
}
