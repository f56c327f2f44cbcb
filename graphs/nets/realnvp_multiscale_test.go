package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// Tests of the multi-scale RealNVP: its convolutional coupling alone
// (gradients, inverse, log-determinant) and the whole flow.

// randomizeCoupling sets the zero-initialized last convolution (to
// N(0, std)), the rescale and the ActNorms of a coupling to random values
// (the ActNorms marked initialized), so that every part acts.
func randomizeCoupling(c *ConvCoupling, std float64, rng *rand.Rand) {
	layers.NormalInit(c.Net.OutConv.Weight, std, rng)
	layers.NormalInit(c.Net.OutConv.Bias, std, rng)
	for i := range c.Rescale.Data {
		c.Rescale.Data[i] = float32(1 + 0.3*rng.NormFloat64())
	}
	for _, a := range c.Norms() {
		layers.NormalInit(a.Bias, 0.2, rng)
		layers.NormalInit(a.Logs, 0.2, rng)
		a.Initialized.Data[0] = 1
	}
}

// smallMultiscale is a flow on side x side images with 4 feature maps and
// one block per network, randomized so that every coupling acts but
// sixteen of them do not take the latents far from N(0, I) (the NLL
// stays small enough for float32 finite differences).
func smallMultiscale(t *testing.T, scales, side int) *RealNVPMultiscale {
	t.Helper()
	rng := rand.New(rand.NewPCG(31, uint64(scales)))
	m, err := NewRealNVPMultiscale(RealNVPMultiscaleConfig{Side: side, Scales: scales, Channels: 4, Blocks: 1}, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Couplings() {
		randomizeCoupling(c, 0.05, rng)
	}
	return m
}

// couplingCases are the coupling tests' masks on the input shapes
// (C, H, W) they apply to in a flow: checkerboards on one channel and on
// an odd side, channel-wise halves of a squeezed input.
var convCouplingCases = []struct {
	mask  ops.ImageMask
	shape []int
}{
	{ops.ImageMask{}, []int{1, 4, 4}},
	{ops.ImageMask{Odd: true}, []int{1, 4, 4}},
	{ops.ImageMask{Odd: true}, []int{2, 3, 3}},
	{ops.ImageMask{ChannelWise: true}, []int{4, 2, 2}},
	{ops.ImageMask{ChannelWise: true, Odd: true}, []int{4, 2, 2}},
}

// newTestCoupling is a randomized coupling for case i with 3 feature maps
// and 2 blocks.
func newTestCoupling(i int) (*graphs.ParamSet, *ConvCoupling) {
	cc := convCouplingCases[i]
	rng := rand.New(rand.NewPCG(32, uint64(i)))
	ps := graphs.NewParamSet()
	c := NewConvCoupling(ps, "c", cc.mask, cc.shape[0], 3, 2, rng)
	randomizeCoupling(c, 0.2, rng)
	return ps, c
}

// TestConvCouplingGradients checks the gradients of a coupling's output and
// log-determinant with respect to every parameter and to its input against
// finite differences (the checkerboard mask or channel slice, the ResNet
// with its ActNorms and residual sums, the rescale, the affine map).
func TestConvCouplingGradients(t *testing.T) {
	for i, cc := range convCouplingCases {
		t.Run(fmt.Sprint(cc.mask, cc.shape), func(t *testing.T) {
			ps, c := newTestCoupling(i)
			rng := rand.New(rand.NewPCG(33, uint64(i)))
			x := gradcheck.RandomParam(ps, "x", rng, append([]int{2}, cc.shape...)...)
			var loss *G.Node
			b := gradcheck.Build(t, func(b *graphs.Bound) {
				y, ld := c.Forward(b, b.Node(x), false)
				loss = must(G.Add(gradcheck.WeightedSum(y, rng), gradcheck.WeightedSum(ld, rng)))
			})
			prog, lossFn := gradcheck.Compile(t, b, loss)
			if want := len(ps.List()) - len(c.Norms()); len(prog.Params()) != want {
				t.Fatalf("differentiating %d parameters, want %d (all but the initialized flags)", len(prog.Params()), want)
			}
			gradcheck.CheckWith(t, prog, lossFn, 6, 0.01) // many ReLUs: see CheckWith
		})
	}
}

// couplingRunner compiles a coupling's forward and inverse on one image
// and returns functions that run them.
func couplingRunner(t *testing.T, c *ConvCoupling, shape []int) (forward func(x []float32) (y []float32, logDet float64), inverse func(y []float32) []float32) {
	t.Helper()
	one := append([]int{1}, shape...)
	var xIn, yIn []float32
	var y, ld, back *G.Node
	fb := gradcheck.Build(t, func(b *graphs.Bound) {
		var x *G.Node
		x, xIn = graphs.Input(b.G, "x", one...)
		y, ld = c.Forward(b, x, false)
	})
	fp, err := graphs.Compile(fb, nil, graphs.Outputs{y, ld})
	if err != nil {
		t.Fatal(err)
	}
	ib := gradcheck.Build(t, func(b *graphs.Bound) {
		var yn *G.Node
		yn, yIn = graphs.Input(b.G, "y", one...)
		back = c.Inverse(b, yn)
	})
	ip, err := graphs.Compile(ib, nil, graphs.Outputs{back})
	if err != nil {
		t.Fatal(err)
	}
	forward = func(x []float32) ([]float32, float64) {
		copy(xIn, x)
		if err := fp.Run(); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), fp.Value(y)...), fp.Scalar(ld)
	}
	inverse = func(yv []float32) []float32 {
		copy(yIn, yv)
		if err := ip.Run(); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), ip.Value(back)...)
	}
	return forward, inverse
}

// TestConvCouplingInvertsAndLogDet checks, for each mask, x -> y -> x
// within 1e-4 and the log-determinant against log|det| of the Jacobian of
// x -> y by central differences (through the network: the Jacobian is
// triangular only up to a permutation, and the brute force does not know
// that).
func TestConvCouplingInvertsAndLogDet(t *testing.T) {
	for i, cc := range convCouplingCases {
		t.Run(fmt.Sprint(cc.mask, cc.shape), func(t *testing.T) {
			_, c := newTestCoupling(i)
			forward, inverse := couplingRunner(t, c, cc.shape)
			rng := rand.New(rand.NewPCG(34, uint64(i)))
			for trial := range 3 {
				x := make([]float32, cc.shape[0]*cc.shape[1]*cc.shape[2])
				gradcheck.FillNormal(rng, x)
				y, ld := forward(x)
				changed := 0
				for j, v := range inverse(y) {
					if math.Abs(float64(v-x[j])) > 1e-4*math.Max(1, math.Abs(float64(x[j]))) {
						t.Fatalf("trial %d: x[%d] = %v after the coupling and back, was %v", trial, j, v, x[j])
					}
					if y[j] != x[j] {
						changed++
					}
				}
				if changed < len(x)/2-cc.shape[0] {
					t.Errorf("trial %d: the coupling changed %d of %d elements", trial, changed, len(x))
				}
				brute := gradcheck.JacobianLogDet(func(x []float32) []float32 { y, _ := forward(x); return y }, x, 1e-2)
				if math.Abs(brute-ld) > 1e-2*math.Max(1, math.Abs(brute)) {
					t.Errorf("trial %d: log|det| %v, brute force %v", trial, ld, brute)
				}
			}
		})
	}
}

// msRunner compiles the NLL graph for a batch and returns a function that
// runs it on x and returns the NLL and the latents.
func msRunner(t *testing.T, m *RealNVPMultiscale, batch int) func(x []float32) (nll float64, latents [][]float32) {
	t.Helper()
	mg, err := m.BuildNLL(batch, false)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(mg.Bound, nil, append(graphs.Outputs{mg.NLL}, mg.Latents...))
	if err != nil {
		t.Fatal(err)
	}
	return func(x []float32) (float64, [][]float32) {
		copy(mg.X, x)
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		var latents [][]float32
		for _, z := range mg.Latents {
			latents = append(latents, append([]float32(nil), prog.Value(z)...))
		}
		return prog.Scalar(mg.NLL), latents
	}
}

// msForward runs the NLL graph once on x.
func msForward(t *testing.T, m *RealNVPMultiscale, x []float32) (nll float64, latents [][]float32) {
	t.Helper()
	return msRunner(t, m, len(x)/m.Dims())(x)
}

// TestRealNVPMultiscaleInverts checks x -> latents -> x within 1e-4
// through three scales (checkerboard couplings, squeeze, channel-wise
// couplings, factoring out, the final scale and their inverses), and the
// latents' shapes.
func TestRealNVPMultiscaleInverts(t *testing.T) {
	m := smallMultiscale(t, 3, 8)
	rng := rand.New(rand.NewPCG(35, 35))
	const batch = 3
	x := make([]float32, batch*m.Dims())
	gradcheck.FillNormal(rng, x)
	_, latents := msForward(t, m, x)
	ms, err := m.BuildSampler(batch)
	if err != nil {
		t.Fatal(err)
	}
	// 8x8: 2x4x4 out, then 4x2x2 out, 4x2x2 at the final scale.
	wantSizes := []int{batch * 32, batch * 16, batch * 16}
	if len(latents) != len(wantSizes) || len(ms.Latents) != len(wantSizes) {
		t.Fatalf("%d latents, %d sampler inputs, want %d", len(latents), len(ms.Latents), len(wantSizes))
	}
	for i, z := range latents {
		if len(z) != wantSizes[i] || len(ms.Latents[i]) != wantSizes[i] {
			t.Fatalf("latent %d: %d values, sampler input %d, want %d", i, len(z), len(ms.Latents[i]), wantSizes[i])
		}
		copy(ms.Latents[i], z)
	}
	prog := gradcheck.Run(t, ms.Bound, nil, ms.X)
	for i, v := range prog.Value(ms.X) {
		if math.Abs(float64(v-x[i])) > 1e-4*math.Max(1, math.Abs(float64(x[i]))) {
			t.Fatalf("x[%d] = %v after the latents and back, was %v", i, v, x[i])
		}
	}
}

// TestRealNVPMultiscaleLogDet compares the whole flow's log-determinant
// (0.5|z|^2 + 0.5 D log 2 pi - NLL) on 1x4x4 inputs, two scales, with
// log|det J| of x -> z by central differences.
func TestRealNVPMultiscaleLogDet(t *testing.T) {
	m := smallMultiscale(t, 2, 4)
	d := m.Dims()
	rng := rand.New(rand.NewPCG(36, 36))
	run := msRunner(t, m, 1)
	flat := func(x []float32) []float32 {
		_, latents := run(x)
		var z []float32
		for _, l := range latents {
			z = append(z, l...)
		}
		return z
	}
	for trial := range 3 {
		x := make([]float32, d)
		gradcheck.FillNormal(rng, x)
		nll, _ := run(x)
		var sq float64
		for _, v := range flat(x) {
			sq += float64(v) * float64(v)
		}
		ld := 0.5*sq + 0.5*float64(d)*math.Log(2*math.Pi) - nll
		brute := gradcheck.JacobianLogDet(flat, x, 1e-2)
		if math.Abs(brute-ld) > 2e-2*math.Max(1, math.Abs(brute)) {
			t.Errorf("trial %d: flow log|det| %v, brute force %v", trial, ld, brute)
		}
	}
}

// TestRealNVPMultiscaleGradients checks the NLL's gradients with respect
// to every trainable parameter of a three-scale flow against finite
// differences.
func TestRealNVPMultiscaleGradients(t *testing.T) {
	m := smallMultiscale(t, 3, 8)
	mg, err := m.BuildNLL(2, false)
	if err != nil {
		t.Fatal(err)
	}
	gradcheck.FillNormal(rand.New(rand.NewPCG(37, 37)), mg.X)
	prog, lossFn := gradcheck.Compile(t, mg.Bound, mg.Loss)
	if len(prog.Params()) != len(m.Trainable()) {
		t.Fatalf("differentiating %d parameters, want the %d trainable ones", len(prog.Params()), len(m.Trainable()))
	}
	gradcheck.CheckWith(t, prog, lossFn, 2, 0.01) // many ReLUs: see CheckWith
}

// TestRealNVPMultiscaleStartsAsIdentity checks that a fresh flow (last
// convolutions at zero) is the identity up to the squeezes and splits:
// log|det| 0, so the NLL is that of x under N(0, I).
func TestRealNVPMultiscaleStartsAsIdentity(t *testing.T) {
	m, err := NewRealNVPMultiscale(RealNVPMultiscaleConfig{Side: 8, Scales: 3, Channels: 4, Blocks: 2}, rand.New(rand.NewPCG(38, 38)))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*m.Dims())
	gradcheck.FillNormal(rand.New(rand.NewPCG(39, 39)), x)
	nll, _ := msForward(t, m, x)
	want := 0.0
	for _, v := range x {
		want += 0.5*float64(v)*float64(v) + 0.5*math.Log(2*math.Pi)
	}
	if math.Abs(nll-want) > 1e-4*want {
		t.Errorf("NLL of a fresh flow %v, N(0, I) gives %v", nll, want)
	}
}

// TestRealNVPMultiscaleLayout checks the architecture of the default
// 28x28 flow: couplings per scale, masks, shapes and state_dict names.
func TestRealNVPMultiscaleLayout(t *testing.T) {
	m, err := NewRealNVPMultiscale(RealNVPMultiscaleConfig{Side: 28, Scales: 3, Channels: 8, Blocks: 2}, rand.New(rand.NewPCG(40, 40)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		c, side, checker, channel int
	}{{1, 28, 3, 3}, {2, 14, 3, 3}, {4, 7, 4, 0}}
	if len(m.Scales) != len(want) {
		t.Fatalf("%d scales", len(m.Scales))
	}
	for i, w := range want {
		sc := m.Scales[i]
		if sc.C != w.c || sc.Side != w.side || len(sc.Checker) != w.checker || len(sc.Channel) != w.channel || sc.Final != (i == 2) {
			t.Errorf("scale %d: %d x %d x %d, %d checkerboard and %d channel-wise couplings; want %+v", i, sc.C, sc.Side, sc.Side, len(sc.Checker), len(sc.Channel), w)
		}
		for k, c := range sc.Checker {
			if c.Mask != (ops.ImageMask{Odd: k%2 == 1}) || c.C != sc.C {
				t.Errorf("scale %d checkerboard coupling %d: mask %v on %d channels", i, k, c.Mask, c.C)
			}
		}
		for k, c := range sc.Channel {
			if c.Mask != (ops.ImageMask{ChannelWise: true, Odd: k%2 == 1}) || c.C != 4*sc.C {
				t.Errorf("scale %d channel-wise coupling %d: mask %v on %d channels", i, k, c.Mask, c.C)
			}
		}
	}
	for name, shape := range map[string][]int{
		"scales.0.couplings.0.net.in_conv.weight":        {8, 1, 3, 3},
		"scales.0.couplings.1.net.blocks.0.conv1.weight": {8, 8, 3, 3},
		"scales.0.couplings.1.net.blocks.1.norm2.logs":   {8},
		"scales.0.couplings.3.net.in_conv.weight":        {8, 2, 3, 3},
		"scales.0.couplings.5.net.out_conv.weight":       {4, 8, 3, 3},
		"scales.0.couplings.5.rescale.weight":            {2, 1, 1},
		"scales.1.couplings.2.net.out_conv.bias":         {4},
		"scales.2.couplings.3.net.out_norm.initialized":  {},
		"scales.2.couplings.3.rescale.weight":            {4, 1, 1},
	} {
		p, ok := m.Params.Get(name)
		if !ok {
			t.Errorf("no parameter %s", name)
			continue
		}
		if fmt.Sprint(p.Shape) != fmt.Sprint(shape) {
			t.Errorf("%s has shape %v, want %v", name, p.Shape, shape)
		}
	}
	if _, ok := m.Params.Get("scales.2.couplings.4.rescale.weight"); ok {
		t.Error("the final scale has a fifth coupling")
	}
	if n, buffers := len(m.Trainable()), len(m.Norms()); n+buffers != len(m.Params.List()) || buffers != 16*5 {
		t.Errorf("%d trainable tensors and %d ActNorms of %d tensors", n, buffers, len(m.Params.List()))
	}
	for _, bad := range []RealNVPMultiscaleConfig{
		{Side: 28, Scales: 4, Channels: 8, Blocks: 1}, // 28 is not divisible by 8
		{Side: 4, Scales: 3, Channels: 8, Blocks: 1},  // the final scale would be 1x1
		{Side: 28, Scales: 0, Channels: 8, Blocks: 1},
		{Side: 28, Scales: 3, Channels: 0, Blocks: 1},
		{Side: 28, Scales: 3, Channels: 8, Blocks: 0},
	} {
		if _, err := NewRealNVPMultiscale(bad, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
