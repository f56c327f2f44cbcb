package nets

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

func tinyVQVAE(t *testing.T) *VQVAE {
	t.Helper()
	m, err := NewVQVAE(VQVAEConfig{Side: 8, Channels: 3, ResChannels: 2, ResBlocks: 1, EmbedDim: 2, Codes: 5}, rand.New(rand.NewPCG(1, 3)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVQVAEParamNamesMatchPyTorch(t *testing.T) {
	m, err := NewVQVAE(VQVAEConfig{Side: 28, Channels: 64, ResChannels: 32, ResBlocks: 2, EmbedDim: 16, Codes: 128}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{
		{"encoder.0.weight", []int{64, 1, 4, 4}}, {"encoder.0.bias", []int{64}},
		{"encoder.2.weight", []int{64, 64, 4, 4}}, {"encoder.2.bias", []int{64}},
		{"encoder.4.weight", []int{64, 64, 3, 3}}, {"encoder.4.bias", []int{64}},
		{"encoder.5.block.1.weight", []int{32, 64, 3, 3}}, {"encoder.5.block.1.bias", []int{32}},
		{"encoder.5.block.3.weight", []int{64, 32, 1, 1}}, {"encoder.5.block.3.bias", []int{64}},
		{"encoder.6.block.1.weight", []int{32, 64, 3, 3}}, {"encoder.6.block.1.bias", []int{32}},
		{"encoder.6.block.3.weight", []int{64, 32, 1, 1}}, {"encoder.6.block.3.bias", []int{64}},
		{"encoder.8.weight", []int{16, 64, 1, 1}}, {"encoder.8.bias", []int{16}},
		{"quantizer.embed", []int{128, 16}}, {"quantizer.cluster_size", []int{128}},
		{"quantizer.embed_avg", []int{128, 16}}, {"quantizer.unused", []int{128}},
		{"decoder.0.weight", []int{64, 16, 3, 3}}, {"decoder.0.bias", []int{64}},
		{"decoder.1.block.1.weight", []int{32, 64, 3, 3}}, {"decoder.1.block.1.bias", []int{32}},
		{"decoder.1.block.3.weight", []int{64, 32, 1, 1}}, {"decoder.1.block.3.bias", []int{64}},
		{"decoder.2.block.1.weight", []int{32, 64, 3, 3}}, {"decoder.2.block.1.bias", []int{32}},
		{"decoder.2.block.3.weight", []int{64, 32, 1, 1}}, {"decoder.2.block.3.bias", []int{64}},
		{"decoder.4.weight", []int{64, 64, 4, 4}}, {"decoder.4.bias", []int{64}},
		{"decoder.6.weight", []int{64, 1, 4, 4}}, {"decoder.6.bias", []int{1}},
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
	if n, buffers := len(m.Trainable()), 4; n != len(want)-buffers {
		t.Errorf("%d trainable parameters, want all %d but the quantizer's %d buffers", n, len(want)-buffers, buffers)
	}
	if !slices.Equal(m.Codebook.Embed.Data, m.Codebook.EmbedAvg.Data) {
		t.Error("embed_avg does not start as a copy of the codes")
	}
}

func TestVQVAEConfigErrors(t *testing.T) {
	good := VQVAEConfig{Side: 8, Channels: 3, ResChannels: 2, ResBlocks: 1, EmbedDim: 2, Codes: 5}
	for name, edit := range map[string]func(*VQVAEConfig){
		"side 30":      func(c *VQVAEConfig) { c.Side = 30 },
		"no channels":  func(c *VQVAEConfig) { c.Channels = 0 },
		"no res width": func(c *VQVAEConfig) { c.ResChannels = 0 },
		"minus blocks": func(c *VQVAEConfig) { c.ResBlocks = -1 },
		"no dim":       func(c *VQVAEConfig) { c.EmbedDim = 0 },
		"one code":     func(c *VQVAEConfig) { c.Codes = 1 },
	} {
		c := good
		edit(&c)
		if _, err := NewVQVAE(c, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// vqInputs fills a batch with uniform [0,1] pixels.
func vqInputs(x []float32, rng *rand.Rand) {
	for i := range x {
		x[i] = rng.Float32()
	}
}

// TestVQVAEGradients checks the gradient of the whole loss with respect to
// every encoder and decoder parameter against finite differences of what
// the straight-through estimator differentiates: the same network with the
// quantizer replaced by z_e + c and sg(e) by e, c = e - z_e and e the codes
// picked at the base point, held fixed. For the decoder's parameters that
// is the loss itself.
func TestVQVAEGradients(t *testing.T) {
	for _, beta := range []float64{0.25, 3} {
		m := tinyVQVAE(t)
		rng := rand.New(rand.NewPCG(9, 9))
		tg, err := m.BuildLoss(8, beta)
		if err != nil {
			t.Fatal(err)
		}
		// The means are scaled to sums' size: the check's tolerance is
		// absolute below gradients of 1.
		const scale = 500
		var scaled *G.Node
		if err := graphs.Build("scaled", func() { scaled = must(G.HadamardProd(tg.Loss, scalar(scale))) }); err != nil {
			t.Fatal(err)
		}
		prog, err := graphs.CompileWRT(tg.Bound, scaled, graphs.Outputs{scaled, tg.ZE}, m.Trainable())
		if err != nil {
			t.Fatal(err)
		}
		vqInputs(tg.X, rng)
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		// Codes at latents of the batch (positions 0, 2, 4, ...), so that
		// several are picked.
		p := m.Config.LatentSide() * m.Config.LatentSide()
		cb := m.Codebook
		for k := 0; k < cb.K; k++ {
			i := 2 * k
			for c := 0; c < cb.D; c++ {
				cb.Embed.Data[k*cb.D+c] = prog.Value(tg.ZE)[((i/p)*cb.D+c)*p+i%p]
			}
		}
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		ze := slices.Clone(prog.Value(tg.ZE))
		e := make([]float32, len(ze))
		m.Codebook.Lookup(tg.Codes.Index, p, e)
		if used := distinct(tg.Codes.Index); used < 3 {
			t.Fatalf("%d codes picked: the check would not see the quantizer", used)
		}

		// The surrogate: the same parameters on a second graph.
		var loss *G.Node
		var x, offset, target []float32
		b := gradcheck.Build(t, func(b *graphs.Bound) {
			var xn, cn, en *G.Node
			s := m.Config.Side
			xn, x = graphs.Input(b.G, "x", 8, 1, s, s)
			zn := m.Encode(b, xn)
			cn, offset = graphs.Input(b.G, "c", zn.Shape()...)
			en, target = graphs.Input(b.G, "e", zn.Shape()...)
			recon, commit := losses(xn, m.Decode(b, must(G.Add(zn, cn))), zn, en)
			loss = must(G.Add(recon, must(G.HadamardProd(commit, scalar(float32(beta))))))
			loss = must(G.HadamardProd(loss, scalar(scale)))
		})
		copy(x, tg.X)
		copy(target, e)
		for i := range offset {
			offset[i] = e[i] - ze[i]
		}
		sur, err := graphs.CompileWRT(b, loss, graphs.Outputs{loss}, m.Trainable())
		if err != nil {
			t.Fatal(err)
		}
		surrogate := gradcheck.LossFunc(t, sur, loss)
		// The analytic gradients of the two graphs agree to rounding: the
		// encoder's are small beside the finite differences' float32
		// noise, so this is where a wrong straight-through path shows.
		surrogate()
		for i, g := range prog.Grads() {
			j := slices.Index(sur.Params(), prog.Params()[i])
			for n, v := range g {
				if w := sur.Grads()[j][n]; math.Abs(float64(v-w)) > 1e-4*math.Max(1e-2, math.Abs(float64(w))) {
					t.Fatalf("beta %v: %s[%d]: gradient %v, surrogate's %v", beta, prog.Params()[i].Name, n, v, w)
				}
			}
		}
		if got, want := prog.Scalar(scaled), surrogate(); math.Abs(got-want) > 1e-5*math.Max(1, want) {
			t.Fatalf("beta %v: loss %v, surrogate %v at the base point", beta, got, want)
		}
		if got := len(prog.Params()); got != len(m.Trainable()) {
			t.Fatalf("differentiating %d parameters, want %d", got, len(m.Trainable()))
		}
		gradcheck.CheckWith(t, prog, surrogate, 10, 0.02)
	}
}

func distinct(idx []int32) int {
	seen := map[int32]bool{}
	for _, k := range idx {
		seen[k] = true
	}
	return len(seen)
}

// TestVQVAELossMatchesDirectComputation checks the two terms of the loss
// from the graph's own z_e and reconstruction, and that a second run with
// the same inputs changes nothing (GORGONIA-NOTES: aliasing ops).
func TestVQVAELossMatchesDirectComputation(t *testing.T) {
	m := tinyVQVAE(t)
	tg, err := m.BuildLoss(2, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	var out *G.Node
	r, err := m.BuildReconstruct(2)
	if err != nil {
		t.Fatal(err)
	}
	out = r.Out
	prog, err := graphs.CompileWRT(tg.Bound, tg.Loss, graphs.Outputs{tg.Loss, tg.Recon, tg.Commit, tg.ZE}, m.Trainable())
	if err != nil {
		t.Fatal(err)
	}
	rprog, err := graphs.Compile(r.Bound, nil, graphs.Outputs{out})
	if err != nil {
		t.Fatal(err)
	}
	vqInputs(tg.X, rand.New(rand.NewPCG(2, 2)))
	copy(r.X, tg.X)
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	if err := rprog.Run(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Codes.Index, tg.Codes.Index) {
		t.Fatal("the reconstruction graph picked other codes than the loss graph")
	}
	ze := prog.Value(tg.ZE)
	e := make([]float32, len(ze))
	m.Codebook.Lookup(tg.Codes.Index, 4, e)
	var recon, commit float64
	for i, v := range rprog.Value(out) {
		d := float64(v - tg.X[i])
		recon += d * d
	}
	for i := range ze {
		d := float64(ze[i] - e[i])
		commit += d * d
	}
	recon /= float64(len(tg.X))
	commit /= float64(len(ze))
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"recon", prog.Scalar(tg.Recon), recon},
		{"commit", prog.Scalar(tg.Commit), commit},
		{"loss", prog.Scalar(tg.Loss), recon + 0.25*commit},
	} {
		if math.Abs(c.got-c.want) > 1e-5*math.Max(1, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	before := slices.Clone(m.EncOut.Weight.Data)
	x := slices.Clone(tg.X)
	loss := prog.Scalar(tg.Loss)
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	if prog.Scalar(tg.Loss) != loss || !slices.Equal(before, m.EncOut.Weight.Data) || !slices.Equal(x, tg.X) {
		t.Error("a second run changed the loss, the weights or the inputs")
	}
}

// TestVQVAEDecoderMatchesReconstruction decodes the codes the
// reconstruction graph picked and gets its output again.
func TestVQVAEDecoderMatchesReconstruction(t *testing.T) {
	m := tinyVQVAE(t)
	r, err := m.BuildReconstruct(2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.BuildDecoder(2)
	if err != nil {
		t.Fatal(err)
	}
	vqInputs(r.X, rand.New(rand.NewPCG(6, 1)))
	rp := gradcheck.Run(t, r.Bound, nil, r.Out)
	m.Codebook.Lookup(r.Codes.Index, 4, d.Q)
	dp := gradcheck.Run(t, d.Bound, nil, d.Out)
	gradcheck.AssertNear(t, "decoded codes", dp.Value(d.Out), rp.Value(r.Out))
}
