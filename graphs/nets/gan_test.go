package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

func tinyGAN(t *testing.T, classes int, sn bool) *GAN {
	t.Helper()
	m, err := NewGAN(GANConfig{LatentDim: 3, ImageDim: 6, GHidden: []int{5, 4}, DHidden: []int{5, 4}, Slope: 0.2, DDropout: 0.3, Classes: classes, SpectralNorm: sn}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fillGANInputs(s *GANStep, rng *rand.Rand) {
	for _, buf := range [][]float32{s.Real, s.Z, s.NoiseReal, s.NoiseFake} {
		for i := range buf {
			buf[i] = float32(rng.NormFloat64() * 0.5)
		}
	}
	for _, oh := range [][]float32{s.OneHotReal, s.OneHotFake} {
		for r := 0; r < len(oh)/3; r++ {
			oh[r*3+rng.IntN(3)] = 1
		}
	}
	for _, m := range s.Masks {
		for i := range m {
			m[i] = float32(rng.IntN(2)) / 0.7
		}
	}
}

func TestGANParamNamesMatchPyTorch(t *testing.T) {
	m, err := NewGAN(GANConfig{LatentDim: 100, ImageDim: 784, GHidden: []int{256, 512, 1024}, DHidden: []int{512, 256}, Slope: 0.2, DDropout: 0.3}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params.List() {
		names = append(names, fmt.Sprintf("%s%v", p.Name, p.Shape))
	}
	want := []string{
		"generator.net.0.weight[256 100]", "generator.net.0.bias[256]",
		"generator.net.2.weight[512 256]", "generator.net.2.bias[512]",
		"generator.net.4.weight[1024 512]", "generator.net.4.bias[1024]",
		"generator.net.6.weight[784 1024]", "generator.net.6.bias[784]",
		"discriminator.net.0.weight[512 784]", "discriminator.net.0.bias[512]",
		"discriminator.net.3.weight[256 512]", "discriminator.net.3.bias[256]",
		"discriminator.net.6.weight[1 256]", "discriminator.net.6.bias[1]",
	}
	if !slices.Equal(names, want) {
		t.Errorf("parameters\n%v\nwant\n%v", names, want)
	}
}

// TestGANGradients checks both training graphs of every loss and option
// against finite differences, each differentiating only its own network.
func TestGANGradients(t *testing.T) {
	cases := []struct {
		loss    string
		classes int
		sn      bool
		noise   bool
		smooth  float64
	}{
		{LossBCE, 0, false, false, 0},
		{LossBCE, 0, false, true, 0.1},
		{LossMinimax, 0, false, false, 0},
		{LossWGAN, 0, false, false, 0},
		{LossHinge, 0, true, false, 0},
		{LossBCE, 3, false, false, 0},
		{LossBCE, 3, true, false, 0},
	}
	for _, c := range cases {
		for _, disc := range []bool{true, false} {
			name := fmt.Sprintf("%s/classes=%d/sn=%v/noise=%v/disc=%v", c.loss, c.classes, c.sn, c.noise, disc)
			t.Run(name, func(t *testing.T) {
				checkGANStep(t, tinyGAN(t, c.classes, c.sn), 4, disc, GANStepOptions{Loss: c.loss, LabelSmoothing: c.smooth, InstanceNoise: c.noise}, 8)
			})
		}
	}
}

// checkGANStep checks one training step's gradients, for the network that
// step trains, against finite differences.
func checkGANStep(t *testing.T, m Adversarial, batch int, disc bool, opt GANStepOptions, perParam int) {
	t.Helper()
	s, err := BuildGANStep(m, batch, disc, opt)
	if err != nil {
		t.Fatal(err)
	}
	wrt := m.GenParams()
	if disc {
		wrt = m.DiscParams()
	}
	prog, err := graphs.CompileWRT(s.Bound, s.Loss, graphs.Outputs{s.Loss}, wrt)
	if err != nil {
		t.Fatal(err)
	}
	fillGANInputs(s, rand.New(rand.NewPCG(2, 2)))
	gradcheck.Check(t, prog, gradcheck.LossFunc(t, prog, s.Loss), perParam)
}

func TestDCGANGradients(t *testing.T) {
	variants := []struct {
		name string
		cfg  DCGANConfig
	}{
		{"transposed", DCGANConfig{Upsample: UpsampleTransposed}},
		{"resize", DCGANConfig{Upsample: UpsampleResize}},
		{"resize+sn", DCGANConfig{Upsample: UpsampleResize, SpectralNorm: true}},
		{"transposed+conditional", DCGANConfig{Upsample: UpsampleTransposed, Classes: 3}},
		{"resize+sn+conditional", DCGANConfig{Upsample: UpsampleResize, SpectralNorm: true, Classes: 3}},
		{"resize+dropout", DCGANConfig{Upsample: UpsampleResize, DDropout: 0.3}},
		{"resize+codes", DCGANConfig{Upsample: UpsampleResize, Codes: 3}},
		{"transposed+sn+codes", DCGANConfig{Upsample: UpsampleTransposed, SpectralNorm: true, Codes: 3}},
		{"resize+hidden", DCGANConfig{Upsample: UpsampleResize, GHidden: []int{6, 5}, DHidden: []int{7}}},
		{"resize+hidden+dropout+codes", DCGANConfig{Upsample: UpsampleResize, GHidden: []int{6}, DHidden: []int{7, 5}, DDropout: 0.3, Codes: 3}},
		{"transposed+sn+hidden+conditional", DCGANConfig{Upsample: UpsampleTransposed, SpectralNorm: true, GHidden: []int{6}, DHidden: []int{7}, Classes: 3}},
	}
	for _, v := range variants {
		for _, disc := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/disc=%v", v.name, disc), func(t *testing.T) {
				cfg := v.cfg
				cfg.Latent, cfg.Base, cfg.Slope = 5, 4, 0.2
				m, err := NewDCGAN(cfg, rand.New(rand.NewPCG(3, 1)))
				if err != nil {
					t.Fatal(err)
				}
				// With N(0, 0.02) weights, batch normalization divides by tiny
				// deviations and the loss curves too fast for finite differences
				// of step 3e-3 (the slopes 1e-3 apart differ by 10%); weights of
				// a trained scale keep the check meaningful.
				for _, p := range m.Params.List() {
					if (strings.HasSuffix(p.Name, ".weight") || strings.HasSuffix(p.Name, ".weight_orig")) && !strings.Contains(p.Name, "bn") && !strings.Contains(p.Name, "label_emb") && p.Name != "discriminator.fc.weight" && p.Name != "discriminator.q.weight" {
						for i := range p.Data {
							p.Data[i] *= 15
						}
					}
				}
				// Random u and v can make sigma = u^T W v near zero; training
				// runs a power iteration before each step, and so does the check.
				for range 20 {
					m.PowerIteration()
				}
				checkGANStep(t, m, 3, disc, GANStepOptions{Loss: LossBCE, InfoWeight: 0.7}, 6)
			})
		}
	}
}

func TestDCGANParamNames(t *testing.T) {
	cases := map[string][]string{
		UpsampleTransposed: {"generator.fc.weight[6272 100]", "generator.bn0.running_var[128]", "generator.deconv1.weight[128 64 4 4]",
			"generator.bn1.weight[64]", "generator.deconv2.weight[64 1 4 4]"},
		UpsampleResize: {"generator.fc.weight[3136 100]", "generator.bn0.running_var[64]", "generator.conv1.weight[32 64 3 3]",
			"generator.conv3.bias[1]"},
	}
	for up, names := range cases {
		m, err := NewDCGAN(DCGANConfig{Latent: 100, Base: 32, Slope: 0.2, Upsample: up}, rand.New(rand.NewPCG(0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, "discriminator.conv1.weight[32 1 4 4]", "discriminator.conv2.weight[64 32 4 4]",
			"discriminator.bn2.num_batches_tracked[]", "discriminator.fc.weight[1 3136]")
		for _, want := range names {
			found := false
			for _, p := range m.Params.List() {
				if fmt.Sprintf("%s%v", p.Name, p.Shape) == want {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no parameter %s", up, want)
			}
		}
	}
	m, err := NewDCGAN(DCGANConfig{Latent: 100, Base: 32, Upsample: UpsampleResize, SpectralNorm: true}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var disc []string
	for _, p := range m.Params.List() {
		if strings.HasPrefix(p.Name, "discriminator.") {
			disc = append(disc, fmt.Sprintf("%s%v", p.Name, p.Shape))
		}
	}
	wantDisc := []string{"discriminator.conv1.weight_orig[32 1 4 4]", "discriminator.conv1.bias[32]", "discriminator.conv1.weight_u[32]",
		"discriminator.conv1.weight_v[16]", "discriminator.conv2.weight_orig[64 32 4 4]", "discriminator.conv2.bias[64]",
		"discriminator.conv2.weight_u[64]", "discriminator.conv2.weight_v[512]", "discriminator.fc.weight_orig[1 3136]",
		"discriminator.fc.bias[1]", "discriminator.fc.weight_u[1]", "discriminator.fc.weight_v[3136]"}
	if !slices.Equal(disc, wantDisc) {
		t.Errorf("spectral-norm D parameters\n got %v\nwant %v", disc, wantDisc)
	}
	wide, err := NewDCGAN(DCGANConfig{Latent: 100, Base: 32, DiscBase: 48, Upsample: UpsampleResize}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if w := wide.DConv2.Weight.Shape; !slices.Equal(w, []int{96, 48, 4, 4}) || wide.DFC.In != 96*49 || wide.GConv1.Out != 32 {
		t.Errorf("d_channels 48: D conv2 %v, fc in %d, G conv1 out %d", w, wide.DFC.In, wide.GConv1.Out)
	}
	if _, err := NewDCGAN(DCGANConfig{Latent: 100, Base: 32, Upsample: "bilinear"}, rand.New(rand.NewPCG(0, 0))); err == nil {
		t.Error("upsample bilinear accepted")
	}
	for _, widths := range [][]int{{0}, {-3}, {1024, 0}} {
		if _, err := NewDCGAN(DCGANConfig{Latent: 100, Base: 32, Upsample: UpsampleResize, DHidden: widths}, rand.New(rand.NewPCG(0, 0))); err == nil {
			t.Errorf("d_hidden %v accepted", widths)
		}
	}
}

// TestDCGANHiddenLayers checks the shapes and names of the hidden layers,
// and that the heads of D read the last one.
func TestDCGANHiddenLayers(t *testing.T) {
	cases := []struct {
		name string
		cfg  DCGANConfig
		want []string
	}{
		{"batch norm", DCGANConfig{GHidden: []int{1024}, DHidden: []int{512, 256}, Codes: 10}, []string{
			"generator.hidden.0.weight[1024 110]", "generator.hidden_bn.0.running_mean[1024]", "generator.fc.weight[3136 1024]",
			"discriminator.hidden.0.weight[512 3136]", "discriminator.hidden_bn.0.weight[512]",
			"discriminator.hidden.1.weight[256 512]", "discriminator.hidden_bn.1.bias[256]",
			"discriminator.fc.weight[1 256]", "discriminator.q.weight[10 256]"}},
		{"spectral norm", DCGANConfig{DHidden: []int{1024}, SpectralNorm: true, Classes: 10}, []string{
			"generator.fc.weight[3136 110]", "discriminator.hidden.0.weight_orig[1024 3136]", "discriminator.hidden.0.weight_u[1024]",
			"discriminator.hidden.0.weight_v[3136]", "discriminator.hidden.0.bias[1024]",
			"discriminator.fc.weight_orig[1 1024]", "discriminator.label_emb.weight[10 1024]"}},
	}
	for _, c := range cases {
		cfg := c.cfg
		cfg.Latent, cfg.Base, cfg.Slope, cfg.Upsample = 100, 32, 0.2, UpsampleResize
		m, err := NewDCGAN(cfg, rand.New(rand.NewPCG(0, 0)))
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, p := range m.Params.List() {
			have[fmt.Sprintf("%s%v", p.Name, p.Shape)] = true
		}
		for _, want := range c.want {
			if !have[want] {
				t.Errorf("%s: no parameter %s", c.name, want)
			}
		}
		if cfg.SpectralNorm && (len(m.SN) != 4 || m.DHiddenBN != nil || have["discriminator.hidden_bn.0.weight[1024]"]) {
			t.Errorf("%s: %d spectral norms (want 4) and hidden batch norms %v", c.name, len(m.SN), m.DHiddenBN)
		}
		// Every trainable parameter belongs to exactly one network.
		trained := map[*graphs.Param]int{}
		for _, p := range append(m.GenParams(), m.DiscParams()...) {
			trained[p]++
		}
		for _, p := range m.Params.List() {
			stat := strings.Contains(p.Name, "running_") || strings.Contains(p.Name, "num_batches") || strings.HasSuffix(p.Name, "_u") || strings.HasSuffix(p.Name, "_v")
			if n := trained[p]; n != 1 && !stat || n != 0 && stat {
				t.Errorf("%s: %s is in %d optimizer lists", c.name, p.Name, n)
			}
		}
	}
}

// scalarsOf builds a graph with build, runs it once, and returns the values
// of the scalar nodes build returns.
func scalarsOf(t *testing.T, build func(g *G.ExprGraph) []*G.Node) []float64 {
	t.Helper()
	var bnd *graphs.Bound
	var nodes []*G.Node
	if err := graphs.Build("scalars", func() {
		g := G.NewGraph()
		bnd = graphs.Bind(g)
		nodes = build(g)
	}); err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(bnd, nil, graphs.Outputs(nodes))
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	values := make([]float64, len(nodes))
	for i, n := range nodes {
		values[i] = prog.Scalar(n)
	}
	return values
}

// TestGANLossValues checks each loss's formula on one pair of logits.
func TestGANLossValues(t *testing.T) {
	sp := func(x float64) float64 { return math.Log1p(math.Exp(x)) }
	const a, b = 2.0, -0.5 // D's logit for a real and for a generated image
	cases := []struct {
		loss         string
		smooth       float64
		wantD, wantG float64
	}{
		{LossBCE, 0, 0.5 * (sp(-a) + sp(b)), sp(-b)},
		{LossBCE, 0.1, 0.5 * (sp(a) - 0.9*a + sp(b)), sp(-b)},
		{LossMinimax, 0, 0.5 * (sp(-a) + sp(b)), -sp(b)},
		{LossWGAN, 0, b - a, -b},
		{LossHinge, 0, math.Max(0, 1-a) + math.Max(0, 1+b), -b},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/smooth=%g", c.loss, c.smooth), func(t *testing.T) {
			got := scalarsOf(t, func(g *G.ExprGraph) []*G.Node {
				real, rv := graphs.Input(g, "real", 1, 1)
				fake, fv := graphs.Input(g, "fake", 1, 1)
				rv[0], fv[0] = a, b
				dLoss, gLoss, err := GANLosses(c.loss, real, fake, c.smooth)
				if err != nil {
					t.Fatal(err)
				}
				return []*G.Node{dLoss, gLoss}
			})
			if d, g := got[0], got[1]; math.Abs(d-c.wantD) > 1e-5 || math.Abs(g-c.wantG) > 1e-5 {
				t.Errorf("D loss %.6f G loss %.6f, want %.6f %.6f", d, g, c.wantD, c.wantG)
			}
		})
	}
}

// TestDCGANDropoutMasks checks that D's dropout masks reach its features:
// with every mask zero, each logit is the final layer's bias alone.
func TestDCGANDropoutMasks(t *testing.T) {
	m, err := NewDCGAN(DCGANConfig{Latent: 5, Base: 4, Slope: 0.2, Upsample: UpsampleResize, DDropout: 0.5}, rand.New(rand.NewPCG(3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.DFC.Bias.Data[0] = 0.25
	s, err := BuildGANStep(m, 2, true, GANStepOptions{Loss: LossBCE})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Masks) != 4 {
		t.Fatalf("%d masks, want 2 per D pass", len(s.Masks))
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.RealLogits, s.FakeLogits})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	for _, zero := range []bool{false, true} {
		fillGANInputs(s, rand.New(rand.NewPCG(2, 2)))
		if zero {
			for _, mask := range s.Masks {
				clear(mask)
			}
		}
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		for _, l := range [][]float32{prog.Value(s.RealLogits), prog.Value(s.FakeLogits)} {
			for _, v := range l {
				if (v == 0.25) != zero {
					t.Errorf("zero masks %v: logit %v, want the bias 0.25 exactly when every mask is zero", zero, v)
				}
			}
		}
	}
}

func TestSoftmaxCrossEntropyValues(t *testing.T) {
	cases := []struct {
		name   string
		logits []float32 // 2 rows of 3
		target []float32
	}{
		{"uniform", []float32{0, 0, 0, 0, 0, 0}, []float32{1, 0, 0, 0, 0, 1}},
		{"confident", []float32{9, -3, 0, 0.5, 2, -1}, []float32{1, 0, 0, 0, 1, 0}},
		{"large logits", []float32{90, 100, 80, -50, -60, -55}, []float32{0, 0, 1, 1, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want float64
			for r := range 2 {
				row := c.logits[r*3 : r*3+3]
				hi := float64(slices.Max(row))
				var sum float64
				for _, v := range row {
					sum += math.Exp(float64(v) - hi)
				}
				for k, y := range c.target[r*3 : r*3+3] {
					want -= float64(y) * (float64(row[k]) - hi - math.Log(sum)) / 2
				}
			}
			got := scalarsOf(t, func(g *G.ExprGraph) []*G.Node {
				l, lv := graphs.Input(g, "logits", 2, 3)
				y, yv := graphs.Input(g, "y", 2, 3)
				copy(lv, c.logits)
				copy(yv, c.target)
				return []*G.Node{SoftmaxCrossEntropy(l, y)}
			})[0]
			if math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
				t.Errorf("loss %.6f, want %.6f", got, want)
			}
		})
	}
}

// TestDCGANInfoCodes checks the InfoGAN wiring: the code goes to G (its
// first layer takes latent + codes inputs), D's code head adds
// InfoWeight x cross-entropy to both steps' losses, and labels and codes
// are not both allowed.
func TestDCGANInfoCodes(t *testing.T) {
	cfg := DCGANConfig{Latent: 5, Base: 4, Slope: 0.2, Upsample: UpsampleResize, Codes: 3}
	m, err := NewDCGAN(cfg, rand.New(rand.NewPCG(3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.GFC.Weight.Shape; !slices.Equal(got, []int{4 * 2 * 49, 8}) {
		t.Errorf("G's first weight %v, want [392 8]: z and the code's one-hot", got)
	}
	if m.DQ == nil || !slices.Contains(m.DiscParams(), m.DQ.Weight) {
		t.Fatalf("the code head is missing from D's parameters")
	}
	for _, disc := range []bool{true, false} {
		losses := map[float64]float64{}
		var codeLoss float64
		for _, w := range []float64{0, 2} {
			s, err := BuildGANStep(m, 4, disc, GANStepOptions{Loss: LossBCE, InfoWeight: w})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.OneHotFake) != 4*3 || s.OneHotReal != nil || s.CodeLoss == nil {
				t.Fatalf("disc=%v: one-hot inputs %d and %d wide, code loss %v; want codes for G only", disc, len(s.OneHotFake), len(s.OneHotReal), s.CodeLoss)
			}
			prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Loss, s.CodeLoss})
			if err != nil {
				t.Fatal(err)
			}
			fillGANInputs(s, rand.New(rand.NewPCG(2, 2)))
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			losses[w], codeLoss = prog.Scalar(s.Loss), prog.Scalar(s.CodeLoss)
			prog.Close()
		}
		// Near initialization the head is nearly uniform: about log 3.
		if math.Abs(codeLoss-math.Log(3)) > 0.2 {
			t.Errorf("disc=%v: code loss %.4f, want about log 3 = %.4f", disc, codeLoss, math.Log(3))
		}
		if got := losses[2] - losses[0]; math.Abs(got-2*codeLoss) > 1e-4 {
			t.Errorf("disc=%v: weight 2 adds %.6f to the loss, want 2 x %.6f", disc, got, codeLoss)
		}
	}
	cfg.Classes = 3
	if _, err := NewDCGAN(cfg, rand.New(rand.NewPCG(3, 1))); err == nil {
		t.Errorf("NewDCGAN accepted both classes and codes")
	}
}
