package nets

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
	"github.com/genmodel/genmodel/graphs/layers"
)

// glowVariants are the couplings and top priors every Glow test covers.
var glowVariants = []struct {
	name               string
	additive, learnTop bool
}{
	{"affine", false, false},
	{"additive", true, false},
	{"affine learned top", false, true},
	{"additive learned top", true, true},
}

// smallGlow is a Glow on side x side images with its zero-initialized
// layers and ActNorms set to random values, so that every layer acts.
func smallGlow(t *testing.T, levels, side int, additive, learnTop bool) *Glow {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, uint64(levels)))
	m, err := NewGlow(GlowConfig{Levels: levels, Steps: 2, Hidden: 6, Side: side, Additive: additive, LearnTop: learnTop}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if m.TopPrior != nil {
		layers.NormalInit(m.TopPrior, 0.3, rng)
	}
	for _, lv := range m.Levels {
		for _, st := range lv.Steps {
			layers.NormalInit(st.NN[2].Weight, 0.3, rng)
			layers.NormalInit(st.NN[2].Bias, 0.3, rng)
			layers.NormalInit(st.ActNorm.Bias, 0.3, rng)
			layers.NormalInit(st.ActNorm.Logs, 0.3, rng)
			st.ActNorm.Initialized.Data[0] = 1
		}
		if lv.Prior != nil {
			layers.NormalInit(lv.Prior.Weight, 0.3, rng)
			layers.NormalInit(lv.Prior.Bias, 0.3, rng)
		}
	}
	return m
}

// glowForward runs the NLL graph on x and returns the NLL, the top latent
// and the standardized split latents.
func glowForward(t *testing.T, m *Glow, x []float32) (nll float64, top []float32, eps [][]float32) {
	t.Helper()
	gg, err := m.BuildNLL(len(x)/m.Dims(), false)
	if err != nil {
		t.Fatal(err)
	}
	copy(gg.X, x)
	prog := gradcheck.Run(t, gg.Bound, nil, append([]*G.Node{gg.NLL, gg.Top}, gg.Eps...)...)
	for _, e := range gg.Eps {
		eps = append(eps, append([]float32(nil), prog.Value(e)...))
	}
	return prog.Scalar(gg.NLL), append([]float32(nil), prog.Value(gg.Top)...), eps
}

// TestGlowInverts checks x -> latents -> x within 1e-4 through two levels
// (squeeze, ActNorm, 1x1 convolution, coupling, split and their inverses).
func TestGlowInverts(t *testing.T) {
	for _, v := range glowVariants {
		t.Run(v.name, func(t *testing.T) { testGlowInverts(t, smallGlow(t, 2, 8, v.additive, v.learnTop)) })
	}
}

func testGlowInverts(t *testing.T, m *Glow) {
	rng := rand.New(rand.NewPCG(12, 12))
	x := make([]float32, 3*m.Dims())
	gradcheck.FillNormal(rng, x)
	_, top, eps := glowForward(t, m, x)
	gs, err := m.BuildSampler(3)
	if err != nil {
		t.Fatal(err)
	}
	copy(gs.Top, top)
	for l := range eps {
		copy(gs.Eps[l], eps[l])
	}
	prog := gradcheck.Run(t, gs.Bound, nil, gs.X)
	for i, v := range prog.Value(gs.X) {
		if math.Abs(float64(v-x[i])) > 1e-4*math.Max(1, math.Abs(float64(x[i]))) {
			t.Fatalf("x[%d] = %v after the latents and back, was %v", i, v, x[i])
		}
	}
}

// TestGlowLogDet compares the flow's log-determinant (one level under
// N(0, I): no prior terms, so it is 0.5|z|^2 + 0.5 D log 2 pi - NLL) with
// log|det J| of the Jacobian of x -> z by central differences, for single
// inputs.
func TestGlowLogDet(t *testing.T) {
	for _, v := range glowVariants {
		if v.learnTop {
			continue // the top prior's terms would mix into the difference
		}
		t.Run(v.name, func(t *testing.T) { testGlowLogDet(t, smallGlow(t, 1, 4, v.additive, false)) })
	}
}

func testGlowLogDet(t *testing.T, m *Glow) {
	d := m.Dims()
	rng := rand.New(rand.NewPCG(13, 13))
	for trial := range 3 {
		x := make([]float32, d)
		gradcheck.FillNormal(rng, x)
		nll, z, _ := glowForward(t, m, x)
		var sq float64
		for _, v := range z {
			sq += float64(v) * float64(v)
		}
		ld := 0.5*sq + 0.5*float64(d)*math.Log(2*math.Pi) - nll
		brute := gradcheck.JacobianLogDet(func(x []float32) []float32 {
			_, z, _ := glowForward(t, m, x)
			return z
		}, x, 1e-2)
		if math.Abs(brute-ld) > 2e-2*math.Max(1, math.Abs(brute)) {
			t.Errorf("trial %d: flow log|det| %v, brute force %v", trial, ld, brute)
		}
	}
}

// TestGlowGradients checks the NLL's gradients against finite differences.
func TestGlowGradients(t *testing.T) {
	for _, v := range glowVariants {
		t.Run(v.name, func(t *testing.T) { testGlowGradients(t, smallGlow(t, 2, 4, v.additive, v.learnTop)) })
	}
}

func testGlowGradients(t *testing.T, m *Glow) {
	gg, err := m.BuildNLL(2, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 15))
	gradcheck.FillNormal(rng, gg.X)
	gradcheck.CheckTrainable(t, gg.Bound, gg.Loss, m.Trainable(), 6)
}
