package ddpm

import (
	"math"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
)

// TestPredictionTargetsAndWeights checks what a training step feeds the
// loss for each prediction and weighting: the schedule's target of the
// step's own x_0 and noise, and each image's weight over all its pixels.
func TestPredictionTargetsAndWeights(t *testing.T) {
	cases := []struct{ prediction, weighting string }{
		{"eps", "simple"}, {"eps", "min_snr"}, {"v", "min_snr"}, {"x0", "simple"},
	}
	for _, c := range cases {
		t.Run(c.prediction+"-"+c.weighting, func(t *testing.T) {
			m := smallDDPM(t, set("ddpm.prediction", c.prediction), set("ddpm.loss_weighting", c.weighting), set("ddpm.min_snr_gamma", "5"))
			if _, err := m.TrainStep(modeltest.NoiseBatch(3), 0, modeltest.RNG(3)); err != nil {
				t.Fatal(err)
			}
			ng, px := m.trainG, m.pixels()
			want := make([]float32, len(ng.Target))
			m.Sched.Target(m.Pred, want, m.x0, m.eps, m.ts, px)
			for i := range want {
				if ng.Target[i] != want[i] {
					t.Fatalf("target[%d] = %g, want %g", i, ng.Target[i], want[i])
				}
			}
			for i, step := range m.ts {
				w := 1.0
				if c.weighting == "min_snr" {
					w = m.Sched.MinSNRWeight(m.Pred, step, 5)
				}
				for _, got := range ng.Weight[i*px : (i+1)*px] {
					if math.Abs(float64(got)-w) > 1e-6*w {
						t.Fatalf("image %d (t=%d): weight %g, want %g", i, step, got, w)
					}
				}
			}
		})
	}
}

// TestSamplingConvertsPredictions checks that sampling reads the network's
// output as its prediction: a v-network with the same weights as an
// eps-network hands the samplers sqrt(abar) out + sqrt(1-abar) x_t.
func TestSamplingConvertsPredictions(t *testing.T) {
	const step, batch = 400, 2
	x := make([]float32, batch*784)
	models.FillNormal(x, modeltest.RNG(4))
	out := func(m *DDPM) []float32 {
		opt, err := m.options(sample.Diffusion{Steps: 10})
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.newReverseProcess(batch, opt)
		if err != nil {
			t.Fatal(err)
		}
		copy(r.X(), x)
		e, err := r.Eps(step)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), e...)
	}
	raw := out(smallDDPM(t, set("ddpm.prediction", "eps")))
	m := smallDDPM(t, set("ddpm.prediction", "v"))
	got := out(m)
	a, b := math.Sqrt(m.Sched.ABar[step]), math.Sqrt(1-m.Sched.ABar[step])
	for i := range got {
		want := a*float64(raw[i]) + b*float64(x[i])
		if math.Abs(float64(got[i])-want) > 1e-5 {
			t.Fatalf("eps[%d] = %g, want %g", i, got[i], want)
		}
	}
	if m.Pred != diffusion.PredictV {
		t.Errorf("prediction %s", m.Pred)
	}
}

// TestRecipeConfigErrors checks that bad recipe keys are refused, naming
// the key.
func TestRecipeConfigErrors(t *testing.T) {
	cases := []struct{ key, value, want string }{
		{"ddpm.prediction", "epsilon", "ddpm.prediction"},
		{"ddpm.loss_weighting", "snr", "ddpm.loss_weighting"},
		{"ddpm.min_snr_gamma", "0", "ddpm.min_snr_gamma"},
	}
	for _, c := range cases {
		overrides := []config.Override{set(c.key, c.value)}
		if c.key == "ddpm.min_snr_gamma" {
			overrides = append(overrides, set("ddpm.loss_weighting", "min_snr"))
		}
		_, err := (models.Entry{Name: "ddpm", Build: New}).New(modeltest.Config(t, "ddpm", overrides...), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %s: error %v, want one naming %s", c.key, c.value, err, c.want)
		}
	}
}
