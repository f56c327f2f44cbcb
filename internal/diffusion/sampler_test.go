package diffusion

import (
	"slices"
	"strings"
	"testing"
)

func TestChoiceResolve(t *testing.T) {
	cases := []struct {
		in      Choice
		want    Choice
		wantErr string
	}{
		{Choice{}, Choice{Sampler: SamplerAncestral, Steps: 50}, ""},
		{Choice{Steps: 50}, Choice{Sampler: SamplerAncestral, Steps: 50}, ""},
		{Choice{Steps: 10, Eta: 0.5}, Choice{Sampler: SamplerDDIM, Steps: 10, Eta: 0.5}, ""},
		{Choice{Sampler: SamplerDDIM}, Choice{Sampler: SamplerDDIM, Steps: 50}, ""},
		{Choice{Sampler: SamplerAncestral, Steps: 10}, Choice{}, "visits all 50 timesteps"},
		{Choice{Steps: 51}, Choice{}, "choose 1 to T = 50"},
		{Choice{Steps: -1}, Choice{}, "choose 1 to T = 50"},
		{Choice{Eta: -0.1}, Choice{}, "eta must not be negative"},
		{Choice{Sampler: "euler"}, Choice{}, `sampler "euler" is not ddpm or ddim`},
	}
	for _, c := range cases {
		got, err := c.in.Resolve(50)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%+v: error %v, want one containing %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// TestSamplersVisit checks the timesteps and names behind the interface:
// the ancestral chain visits every step whatever it is asked, DDIM the
// strided subset.
func TestSamplersVisit(t *testing.T) {
	s, err := NewSchedule(Linear, 10, 1e-4, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		choice Choice
		steps  int
		want   []int
	}{
		{Choice{Sampler: SamplerAncestral}, 3, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{Choice{Sampler: SamplerDDIM}, 4, []int{9, 6, 3, 0}},
	}
	for _, c := range cases {
		smp, err := NewSampler(c.choice, s)
		if err != nil {
			t.Fatal(err)
		}
		if smp.Name() != c.choice.Sampler {
			t.Errorf("name %q, want %q", smp.Name(), c.choice.Sampler)
		}
		if got := smp.Timesteps(c.steps); !slices.Equal(got, c.want) {
			t.Errorf("%s timesteps(%d) = %v, want %v", c.choice.Sampler, c.steps, got, c.want)
		}
	}
	if _, err := NewSampler(Choice{Sampler: "plms"}, s); err == nil {
		t.Error("an unknown sampler was built")
	}
}
