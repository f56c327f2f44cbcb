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

func tinySSVAE(t *testing.T, activation string) *SSVAE {
	t.Helper()
	return tinySSVAEOf(t, activation, BernoulliLikelihood)
}

func tinySSVAEOf(t *testing.T, activation, likelihood string) *SSVAE {
	t.Helper()
	m, err := NewSSVAE(SSVAEConfig{InputDim: 6, Classes: 3, LatentDim: 2, Hidden: []int{5}, Activation: activation, Likelihood: likelihood}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSSVAEParamNamesMatchPyTorch(t *testing.T) {
	m, err := NewSSVAE(SSVAEConfig{InputDim: 784, Classes: 10, LatentDim: 50, Hidden: []int{500}, Activation: SoftplusActivation}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{
		{"classifier.0.weight", []int{500, 784}}, {"classifier.0.bias", []int{500}},
		{"classifier.2.weight", []int{10, 500}}, {"classifier.2.bias", []int{10}},
		{"encoder.0.weight", []int{500, 794}}, {"encoder.0.bias", []int{500}},
		{"fc_mu.weight", []int{50, 500}}, {"fc_mu.bias", []int{50}},
		{"fc_var.weight", []int{50, 500}}, {"fc_var.bias", []int{50}},
		{"decoder.0.weight", []int{500, 60}}, {"decoder.0.bias", []int{500}},
		{"decoder.2.weight", []int{784, 500}}, {"decoder.2.bias", []int{784}},
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
	if n := m.Params.Count(); n != 1_268_394 {
		t.Errorf("parameter count %d, want 1268394", n)
	}
}

// TestSSVAEGaussianHead checks M1+M2's Gaussian decoder: one more head,
// decoder_var, beside decoder's mean layer, both on its last hidden layer.
func TestSSVAEGaussianHead(t *testing.T) {
	m, err := NewSSVAE(SSVAEConfig{InputDim: 50, Classes: 10, LatentDim: 50, Hidden: []int{500}, Activation: SoftplusActivation, Likelihood: GaussianLikelihood}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Params.List()
	last := got[len(got)-2:]
	if last[0].Name != "decoder_var.weight" || !slices.Equal(last[0].Shape, []int{50, 500}) || last[1].Name != "decoder_var.bias" {
		t.Errorf("last parameters %s %v, %s; want decoder_var.weight [50 500], decoder_var.bias", last[0].Name, last[0].Shape, last[1].Name)
	}
}

func TestSSVAEConfigErrors(t *testing.T) {
	good := SSVAEConfig{InputDim: 6, Classes: 3, LatentDim: 2, Hidden: []int{5}, Activation: ReLUActivation}
	for name, edit := range map[string]func(*SSVAEConfig){
		"no latent":      func(c *SSVAEConfig) { c.LatentDim = 0 },
		"one class":      func(c *SSVAEConfig) { c.Classes = 1 },
		"no hidden":      func(c *SSVAEConfig) { c.Hidden = nil },
		"zero width":     func(c *SSVAEConfig) { c.Hidden = []int{5, 0} },
		"bad activation": func(c *SSVAEConfig) { c.Activation = "tanh" },
		"bad likelihood": func(c *SSVAEConfig) { c.Likelihood = "poisson" },
	} {
		c := good
		edit(&c)
		if _, err := NewSSVAE(c, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// ssvaeInputs fills a loss graph with binary images (real values for a
// Gaussian likelihood), labels and noise.
func ssvaeInputs(t *SSVAETrainGraph, m *SSVAE, rng *rand.Rand) (xu, xl []float32, labels []uint8) {
	d := m.Config.InputDim
	xu = make([]float32, t.Unlabelled*d)
	xl = make([]float32, t.Labelled*d)
	for _, x := range [][]float32{xu, xl} {
		for i := range x {
			x[i] = float32(rng.IntN(2))
			if m.Config.gaussian() {
				x[i] = float32(rng.NormFloat64())
			}
		}
	}
	labels = make([]uint8, t.Labelled)
	for j := range labels {
		labels[j] = uint8(rng.IntN(m.Config.Classes))
	}
	t.SetUnlabelled(xu)
	t.SetLabelled(xl, labels)
	gradcheck.FillNormal(rng, t.EpsU)
	gradcheck.FillNormal(rng, t.EpsL)
	return xu, xl, labels
}

// TestSSVAELossMatchesDirectComputation checks the three terms of the loss
// against the paper's formulas written out in float64.
func TestSSVAELossMatchesDirectComputation(t *testing.T) {
	for _, c := range []struct{ act, likelihood string }{
		{SoftplusActivation, BernoulliLikelihood},
		{ReLUActivation, BernoulliLikelihood},
		{SoftplusActivation, GaussianLikelihood},
	} {
		t.Run(c.act+" "+c.likelihood, func(t *testing.T) {
			m := tinySSVAEOf(t, c.act, c.likelihood)
			w := SSVAELossWeights{Unlabelled: 0.25, Labelled: 0.5, Classification: 3}
			tg, err := m.BuildLoss(4, 3, w)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graphs.Compile(tg.Bound, tg.Loss, graphs.Outputs{tg.Loss, tg.UnlabelledLoss, tg.LabelledLoss, tg.ClassLoss})
			if err != nil {
				t.Fatal(err)
			}
			xu, xl, labels := ssvaeInputs(tg, m, rand.New(rand.NewPCG(3, 4)))
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			ref := ssvaeReference{m}
			var unl, lab, ce float64
			d, k, zd := m.Config.InputDim, m.Config.Classes, m.Config.LatentDim
			for i := 0; i < 4; i++ {
				x := xu[i*d : (i+1)*d]
				q := ref.classify(x)
				for c := 0; c < k; c++ {
					row := c*4 + i
					unl += q[c] * (ref.negELBO(x, c, tg.EpsU[row*zd:(row+1)*zd]) + math.Log(q[c]))
				}
			}
			for j, y := range labels {
				x := xl[j*d : (j+1)*d]
				lab += ref.negELBO(x, int(y), tg.EpsL[j*zd:(j+1)*zd])
				ce -= math.Log(ref.classify(x)[y])
			}
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"unlabelled", prog.Scalar(tg.UnlabelledLoss), unl},
				{"labelled", prog.Scalar(tg.LabelledLoss), lab},
				{"classification", prog.Scalar(tg.ClassLoss), ce},
				{"loss", prog.Scalar(tg.Loss), 0.25*unl + 0.5*lab + 3*ce},
			} {
				if math.Abs(c.got-c.want) > 1e-4*math.Max(1, math.Abs(c.want)) {
					t.Errorf("%s = %.6f, want %.6f", c.name, c.got, c.want)
				}
			}
			// A second run sees the same weights and inputs: nothing is
			// overwritten in place (GORGONIA-NOTES: aliasing ops).
			before := slices.Clone(m.Params.List()[4].Data)
			loss := prog.Scalar(tg.Loss)
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			if prog.Scalar(tg.Loss) != loss || !slices.Equal(before, m.Params.List()[4].Data) || !slices.Equal(xu, tg.XU) {
				t.Error("a second run changed the loss, the weights or the inputs")
			}
		})
	}
}

// TestSSVAEScoresMatchDirectComputation checks the evaluation graph's
// per-class bounds and logits, with the classifier fed other images than
// the encoder (the gray images and a binarization of them).
func TestSSVAEScoresMatchDirectComputation(t *testing.T) {
	m := tinySSVAE(t, SoftplusActivation)
	s, err := m.BuildScores(2)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits, s.NegELBO})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	gray, bin := make([]float32, 12), make([]float32, 12)
	for i := range gray {
		gray[i] = rng.Float32()
		bin[i] = float32(rng.IntN(2))
	}
	s.SetImages(gray, bin)
	gradcheck.FillNormal(rng, s.Eps)
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	ref := ssvaeReference{m}
	logits, negL := prog.Value(s.Logits), prog.Value(s.NegELBO)
	for i := 0; i < 2; i++ {
		q := ref.classify(gray[i*6 : (i+1)*6])
		for c := 0; c < 3; c++ {
			row := c*2 + i
			want := ref.negELBO(bin[i*6:(i+1)*6], c, s.Eps[row*2:(row+1)*2])
			if math.Abs(float64(negL[row])-want) > 1e-4*math.Max(1, want) {
				t.Errorf("-L(x_%d, %d) = %v, want %v", i, c, negL[row], want)
			}
			// Softmax of the graph's logits against the reference q.
			var z float64
			for cc := 0; cc < 3; cc++ {
				z += math.Exp(float64(logits[i*3+cc] - logits[i*3+c]))
			}
			if got := 1 / z; math.Abs(got-q[c]) > 1e-5 {
				t.Errorf("q(%d|x_%d) = %v, want %v", c, i, got, q[c])
			}
		}
	}
}

// ssvaeReference is the model written out in float64.
type ssvaeReference struct{ m *SSVAE }

func (r ssvaeReference) act(v float64) float64 {
	if r.m.Config.Activation == ReLUActivation {
		return math.Max(v, 0)
	}
	return math.Log1p(math.Exp(v))
}

func (r ssvaeReference) dense(l *layers.Linear, in []float64, act bool) []float64 {
	out := make([]float64, l.Out)
	for o := range out {
		s := float64(l.Bias.Data[o])
		for i := 0; i < l.In; i++ {
			s += float64(l.Weight.Data[o*l.In+i]) * in[i]
		}
		if act {
			s = r.act(s)
		}
		out[o] = s
	}
	return out
}

func (r ssvaeReference) mlp(ls []*layers.Linear, in []float64, actAfterLast bool) []float64 {
	for i, l := range ls {
		in = r.dense(l, in, i < len(ls)-1 || actAfterLast)
	}
	return in
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func oneHot(c, k int) []float64 {
	y := make([]float64, k)
	y[c] = 1
	return y
}

// classify returns q(y|x).
func (r ssvaeReference) classify(x []float32) []float64 {
	logits := r.mlp(r.m.Classifier, widen(x), false)
	mx := slices.Max(logits)
	var z float64
	for _, l := range logits {
		z += math.Exp(l - mx)
	}
	q := make([]float64, len(logits))
	for i, l := range logits {
		q[i] = math.Exp(l-mx) / z
	}
	return q
}

// negELBO returns -L(x, y) with the given noise.
func (r ssvaeReference) negELBO(x []float32, y int, eps []float32) float64 {
	k := r.m.Config.Classes
	h := r.mlp(r.m.Encoder, append(widen(x), oneHot(y, k)...), true)
	mu, lv := r.dense(r.m.Mu, h, false), r.dense(r.m.LogVar, h, false)
	z := make([]float64, len(mu))
	var kl float64
	for j := range z {
		z[j] = mu[j] + math.Exp(0.5*lv[j])*float64(eps[j])
		kl += -0.5 * (1 + lv[j] - mu[j]*mu[j] - math.Exp(lv[j]))
	}
	dec := r.m.Decoder
	h = r.mlp(dec[:len(dec)-1], append(z, oneHot(y, k)...), true)
	out := r.dense(dec[len(dec)-1], h, false)
	var recon float64
	if r.m.DecoderLogVar != nil {
		// -log N(x; mean, exp(lv)), summed over the values.
		lvx := r.dense(r.m.DecoderLogVar, h, false)
		for i, mean := range out {
			d := float64(x[i]) - mean
			recon += 0.5 * (math.Log(2*math.Pi) + lvx[i] + d*d*math.Exp(-lvx[i]))
		}
		return recon + kl + math.Log(float64(k))
	}
	for i, o := range out {
		xi := float64(x[i])
		recon += math.Max(o, 0) - xi*o + math.Log1p(math.Exp(-math.Abs(o)))
	}
	return recon + kl + math.Log(float64(k))
}

// TestSSVAEGradients checks the gradient of the whole loss, and of its
// unlabelled and labelled parts alone, against finite differences.
func TestSSVAEGradients(t *testing.T) {
	whole := SSVAELossWeights{Unlabelled: 0.25, Labelled: 0.5, Classification: 3}
	cases := []struct {
		name       string
		act        string
		likelihood string
		w          SSVAELossWeights
	}{
		{"whole loss", SoftplusActivation, BernoulliLikelihood, whole},
		{"unlabelled term", SoftplusActivation, BernoulliLikelihood, SSVAELossWeights{Unlabelled: 1}},
		{"labelled terms", SoftplusActivation, BernoulliLikelihood, SSVAELossWeights{Labelled: 1, Classification: 2}},
		{"whole loss relu", ReLUActivation, BernoulliLikelihood, whole},
		{"whole loss gaussian", SoftplusActivation, GaussianLikelihood, whole},
		{"unlabelled term gaussian", SoftplusActivation, GaussianLikelihood, SSVAELossWeights{Unlabelled: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinySSVAEOf(t, c.act, c.likelihood)
			tg, err := m.BuildLoss(4, 3, c.w)
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
			ssvaeInputs(tg, m, rand.New(rand.NewPCG(5, 6)))
			gradcheck.Check(t, prog, gradcheck.LossFunc(t, prog, tg.Loss), 12)
		})
	}
}
