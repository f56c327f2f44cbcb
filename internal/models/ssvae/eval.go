package ssvae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/evaluate"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Evaluate implements models.Model: the test classification error of
// q(y|x) and the test bounds.
func (m *SSVAE) Evaluate(test *data.Dataset, rng *rand.Rand) (models.Report, error) {
	ms, err := m.TestMetrics(test, rng)
	if err != nil {
		return models.Report{}, err
	}
	if m.m1 != nil {
		return models.Report{Model: "ssvae", Images: test.N, Metrics: ms, Notes: []string{
			"M1+M2: M2 sees z1, the mean of M1's q(z1|x) for each gray test image, in place of its pixels",
			"error: share of test images whose most probable class under q(y|z1) is not their label",
			"nelbo, nelbo_xy: the bounds on -log p(z1) and -log p(z1, y) in nats, of a density over z1, not of the pixels: not comparable with M2's",
			"elbo_error: the same share for the class of the best bound L(z1, y)",
		}}, nil
	}
	how := "the gray test images"
	if m.cfg.DynamicBinarization {
		how = "one Bernoulli draw of each test pixel"
	}
	return models.Report{Model: "ssvae", Images: test.N, Metrics: ms, Notes: []string{
		"error: share of test images whose most probable class under q(y|x) is not their label (q(y|x) sees the gray images)",
		"nelbo: -U(x) per test image in nats, the bound on -log p(x) with y summed out under q(y|x); nelbo_xy: -L(x, y) with the true label, a bound on -log p(x, y)",
		"elbo_error: the same share for the class of the best bound L(x, y), the generative model's own guess: far above error while p(x|y,z) has not learned what y means",
		"bounds: one posterior sample of z per image and class, scored against " + how,
	}}, nil
}

// BestMetric implements train.BestTracker: the epoch of the lowest test
// classification error of q(y|x) is kept as checkpoints/best.
func (m *SSVAE) BestMetric() string { return "error" }

// TestMetrics implements train.TestEvaluator: error, nelbo, nelbo_xy and
// elbo_error (see Evaluate).
func (m *SSVAE) TestMetrics(test *data.Dataset, rng *rand.Rand) ([]train.Metric, error) {
	if test.Labels == nil {
		return nil, fmt.Errorf("the ssvae's evaluation needs labelled test images")
	}
	d, k := m.pixels(), classes
	if test.H*test.W != d {
		return nil, fmt.Errorf("test images are %dx%d, the model takes %d pixels", test.H, test.W, d)
	}
	bs := max(1, min(m.common.Eval.BatchSize, test.N))
	s, err := m.Net.BuildScores(bs)
	if err != nil {
		return nil, err
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits, s.NegELBO})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	gray, bin := make([]float32, bs*d), make([]float32, bs*d)
	var z1 []float32
	if m.m1 != nil {
		z1 = make([]float32, bs*m.Net.Config.InputDim)
	}
	var wrong, wrongELBO int
	var nelbo, nelboXY float64
	for lo := 0; lo < test.N; lo += bs {
		rows := min(bs, test.N-lo)
		clear(gray)
		copy(gray, test.Pixels[lo*d:(lo+rows)*d])
		if m.m1 != nil {
			// M2 classifies and scores M1's posterior means.
			if err := m.m1.features(z1, gray, nil); err != nil {
				return nil, err
			}
			s.SetImages(z1, z1)
		} else {
			m.binarize(bin, gray, rng)
			s.SetImages(gray, bin)
		}
		models.FillNormal(s.Eps, rng)
		if err := prog.Run(); err != nil {
			return nil, err
		}
		logits, negL := prog.Value(s.Logits), prog.Value(s.NegELBO)
		for i := 0; i < rows; i++ {
			y := int(test.Labels[lo+i])
			logQ := logSoftmax(logits[i*k : (i+1)*k])
			if evaluate.TopClass(logits[i*k:(i+1)*k]) != y {
				wrong++
			}
			best := 0
			for c, lq := range logQ {
				nelbo += math.Exp(lq) * (float64(negL[c*bs+i]) + lq)
				if negL[c*bs+i] < negL[best*bs+i] {
					best = c
				}
			}
			if best != y {
				wrongELBO++
			}
			nelboXY += float64(negL[y*bs+i])
		}
	}
	n := float64(test.N)
	return []train.Metric{{Name: "error", Value: float64(wrong) / n}, {Name: "nelbo", Value: nelbo / n},
		{Name: "nelbo_xy", Value: nelboXY / n}, {Name: "elbo_error", Value: float64(wrongELBO) / n}}, nil
}

// logSoftmax returns log q(y|x) from logits, in float64.
func logSoftmax(logits []float32) []float64 {
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = math.Max(mx, float64(l))
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l) - mx)
	}
	out := make([]float64, len(logits))
	for i, l := range logits {
		out[i] = float64(l) - mx - math.Log(z)
	}
	return out
}
