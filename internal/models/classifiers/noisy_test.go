package classifiers

import (
	"slices"
	"testing"

	"github.com/genmodel/genmodel/internal/models/modeltest"
)

// TestNoisyEvaluateFollowsTheSchedule evaluates noisy classifiers of two
// schedule lengths: the reported timesteps must lie in each schedule (a
// 40-step one indexed past its end before), and T = 1000 keeps its names.
func TestNoisyEvaluateFollowsTheSchedule(t *testing.T) {
	_, test := modeltest.MNIST(t, 256, false)
	for _, c := range []struct {
		T    string
		want []string
	}{
		{"40", []string{"accuracy_t0", "accuracy_t10", "accuracy_t20", "accuracy_t30", "accuracy_t39"}},
		{"1000", []string{"accuracy_t0", "accuracy_t250", "accuracy_t500", "accuracy_t750", "accuracy_t999"}},
	} {
		m := modeltest.New(t, "noisy-classifier", NewNoisy, nil, modeltest.Set("diffusion.timesteps", c.T))
		rep, err := m.Evaluate(test, modeltest.RNG(1))
		if err != nil {
			t.Fatalf("T = %s: %v", c.T, err)
		}
		var names []string
		for _, x := range rep.Metrics {
			names = append(names, x.Name)
			if !(x.Value >= 0 && x.Value <= 1) {
				t.Errorf("T = %s: %s = %v", c.T, x.Name, x.Value)
			}
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("T = %s: metrics %v, want %v", c.T, names, c.want)
		}
	}
}
