package nets

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
	"github.com/genmodel/genmodel/graphs/layers"
)

func tinyVAE(t *testing.T, decoder string, freeBits float64) *VAE {
	t.Helper()
	m, err := NewVAE(VAEConfig{InputDim: 6, Hidden: []int{5, 4}, LatentDim: 3, Decoder: decoder, FreeBits: freeBits}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fillInputs(t *VAETrainGraph, decoder string, rng *rand.Rand) {
	for i := range t.X {
		t.X[i] = float32(rng.Float64())
		if decoder == BernoulliDecoder {
			t.X[i] = float32(math.Round(float64(t.X[i])))
		}
	}
	gradcheck.FillNormal(rng, t.Eps)
	*t.KLWeight = 0.7
}

func TestVAEParamNamesMatchPyTorch(t *testing.T) {
	m, err := NewVAE(VAEConfig{InputDim: 784, Hidden: []int{256, 128}, LatentDim: 20, Decoder: GaussianDecoder}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{
		{"encoder.0.weight", []int{256, 784}}, {"encoder.0.bias", []int{256}},
		{"encoder.2.weight", []int{128, 256}}, {"encoder.2.bias", []int{128}},
		{"fc_mu.weight", []int{20, 128}}, {"fc_mu.bias", []int{20}},
		{"fc_var.weight", []int{20, 128}}, {"fc_var.bias", []int{20}},
		{"decoder.0.weight", []int{128, 20}}, {"decoder.0.bias", []int{128}},
		{"decoder.2.weight", []int{256, 128}}, {"decoder.2.bias", []int{256}},
		{"decoder.4.weight", []int{784, 256}}, {"decoder.4.bias", []int{784}},
	}
	got := m.Params.List()
	if len(got) != len(want) {
		t.Fatalf("%d parameters, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Name != w.name || !slices.Equal(got[i].Shape, w.shape) {
			t.Errorf("param %d = %s %v, want %s %v", i, got[i].Name, got[i].Shape, w.name, w.shape)
		}
	}
	if n := m.Params.Count(); n != 476_216 {
		t.Errorf("parameter count %d, want 476216 (the PyTorch module's)", n)
	}
}

// TestVAELossMatchesDirectComputation checks the graph's forward values
// against the loss written out in plain Go.
func TestVAELossMatchesDirectComputation(t *testing.T) {
	for _, dec := range []string{GaussianDecoder, BernoulliDecoder} {
		t.Run(dec, func(t *testing.T) {
			m := tinyVAE(t, dec, 0)
			tg, err := m.BuildLoss(4)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graphs.Compile(tg.Bound, tg.Loss, graphs.Outputs{tg.Loss, tg.ReconLoss, tg.KL})
			if err != nil {
				t.Fatal(err)
			}
			fillInputs(tg, dec, rand.New(rand.NewPCG(3, 4)))
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			recon, kl := referenceVAELoss(m, tg.X, tg.Eps, 4)
			want := recon + 0.7*kl
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"recon", prog.Scalar(tg.ReconLoss), recon}, {"kl", prog.Scalar(tg.KL), kl}, {"loss", prog.Scalar(tg.Loss), want}} {
				if math.Abs(c.got-c.want) > 1e-4*math.Max(1, math.Abs(c.want)) {
					t.Errorf("%s = %.6f, want %.6f", c.name, c.got, c.want)
				}
			}
		})
	}
}

// referenceVAELoss computes the summed reconstruction loss and KL in float64.
func referenceVAELoss(m *VAE, x, eps []float32, batch int) (recon, kl float64) {
	dense := func(l *layers.Linear, in []float64, relu bool) []float64 {
		out := make([]float64, l.Out)
		for o := 0; o < l.Out; o++ {
			s := float64(l.Bias.Data[o])
			for i := 0; i < l.In; i++ {
				s += float64(l.Weight.Data[o*l.In+i]) * in[i]
			}
			if relu && s < 0 {
				s = 0
			}
			out[o] = s
		}
		return out
	}
	d, z := m.Config.InputDim, m.Config.LatentDim
	for n := 0; n < batch; n++ {
		h := make([]float64, d)
		for i := range h {
			h[i] = float64(x[n*d+i])
		}
		for _, l := range m.Encoder {
			h = dense(l, h, true)
		}
		mu, lv := dense(m.Mu, h, false), dense(m.LogVar, h, false)
		zz := make([]float64, z)
		for j := range zz {
			zz[j] = mu[j] + math.Exp(0.5*lv[j])*float64(eps[n*z+j])
			kl += -0.5 * (1 + lv[j] - mu[j]*mu[j] - math.Exp(lv[j]))
		}
		out := zz
		for i, l := range m.Decoder {
			out = dense(l, out, i < len(m.Decoder)-1)
		}
		for i, o := range out {
			xi := float64(x[n*d+i])
			if m.Config.Decoder == BernoulliDecoder {
				recon += math.Max(o, 0) - xi*o + math.Log1p(math.Exp(-math.Abs(o)))
			} else {
				recon += (o - xi) * (o - xi)
			}
		}
	}
	return recon, kl
}

func TestVAEGradients(t *testing.T) {
	cases := []struct {
		name     string
		decoder  string
		freeBits float64
	}{
		{"gaussian", GaussianDecoder, 0},
		{"bernoulli", BernoulliDecoder, 0},
		{"free-bits", GaussianDecoder, 0.05},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyVAE(t, c.decoder, c.freeBits)
			tg, err := m.BuildLoss(4)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graphs.Compile(tg.Bound, tg.Loss, graphs.Outputs{tg.Loss})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(prog.Params()); got != len(m.Params.List()) {
				t.Fatalf("differentiating %d parameters, want all %d", got, len(m.Params.List()))
			}
			fillInputs(tg, c.decoder, rand.New(rand.NewPCG(5, 6)))
			gradcheck.Check(t, prog, gradcheck.LossFunc(t, prog, tg.Loss), 12)
		})
	}
}

func TestBCEWithLogitsIsStableForLargeLogits(t *testing.T) {
	m := tinyVAE(t, BernoulliDecoder, 0)
	// Push the decoder's last bias far out: a naive sigmoid-then-log loss
	// would give Inf or NaN here.
	last := m.Decoder[len(m.Decoder)-1]
	for i := range last.Bias.Data {
		last.Bias.Data[i] = 60
	}
	tg, err := m.BuildLoss(2)
	if err != nil {
		t.Fatal(err)
	}
	fillInputs(tg, BernoulliDecoder, rand.New(rand.NewPCG(7, 8)))
	got := gradcheck.Run(t, tg.Bound, nil, tg.ReconLoss).Scalar(tg.ReconLoss)
	if math.IsNaN(got) || math.IsInf(got, 0) || got <= 0 {
		t.Fatalf("reconstruction loss %v with logits near 60, want finite and positive", got)
	}
}
