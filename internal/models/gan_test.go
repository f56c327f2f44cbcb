package models

import (
	"strings"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/train"
)

func TestGANWarnings(t *testing.T) {
	m := newDefault(t, "gan").(*GAN)
	// A freshly initialized generator barely depends on its noise (pixel
	// std about 0.015); scaling its last layer up gives it the spread of a
	// trained one, so that only the cases below decide the warnings.
	net := m.Net.(*graphs.GAN)
	last := net.Gen[len(net.Gen)-1].Weight.Data
	for i := range last {
		last[i] *= 30
	}
	cases := []struct {
		name     string
		dx, dgz  float64
		collapse bool
		want     []string
	}{
		{"healthy", 0.6, 0.4, false, nil},
		{"discriminator wins", 0.99, 0.01, false, []string{"discriminator wins"}},
		{"diverged", 0.1, 0.9, false, []string{"diverged"}},
		{"collapsed", 0.6, 0.4, true, []string{"mode collapse"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.collapse {
				// A generator whose last layer ignores its input maps all
				// noise to one image.
				clear(last)
			}
			got := m.CheckEpoch([]train.Metric{{Name: "d_x", Value: c.dx}, {Name: "d_g_z1", Value: c.dgz}})
			if len(got) != len(c.want) {
				t.Fatalf("warnings %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q does not mention %q", got[i], w)
				}
			}
		})
	}
}

func TestGANConfigErrors(t *testing.T) {
	for _, o := range [][2]string{{"gan.loss", "lsgan"}, {"gan.n_critic", "0"}, {"gan.label_smoothing", "1"}, {"gan.d_dropout", "1"}, {"gan.weight_clip", "-1"}} {
		cfg, err := loadConfig("gan", set(o[0], o[1]))
		if err != nil {
			continue
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s=%s accepted", o[0], o[1])
		}
	}
}

// TestConditionalSamplesFollowTheClass checks the plumbing of --class: the
// one-hot input reaches the generator, so a conditional model's samples for
// different classes differ while an unconditional one refuses a class.
func TestConditionalSamplesFollowTheClass(t *testing.T) {
	cond := loadModel(t, "gan", set("gan.conditional", "true")).(*GAN)
	a, _, err := cond.Draw(DrawRequest{Kind: "prior", N: 4, Class: 3}, nil, rngFor(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := cond.Draw(DrawRequest{Kind: "prior", N: 4, Class: 8}, nil, rngFor(1))
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			same = false
			break
		}
	}
	if same {
		t.Error("class 3 and class 8 gave identical images from the same noise")
	}
	if _, _, err := newDefault(t, "gan").Draw(DrawRequest{Kind: "prior", N: 4, Class: 3}, nil, rngFor(1)); err == nil {
		t.Error("an unconditional GAN accepted --class")
	}
	if _, _, err := cond.Draw(DrawRequest{Kind: "prior", N: 4, Class: 10}, nil, rngFor(1)); err == nil {
		t.Error("class 10 accepted")
	}
}
