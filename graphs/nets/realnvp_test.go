package nets

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// smallRealNVP is a 6-pixel flow whose weights are scaled up so that every
// layer's scales and shifts are far from the identity.
func smallRealNVP(t *testing.T) *RealNVP {
	t.Helper()
	m, err := NewRealNVP(6, 8, 4, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Trainable() {
		for i := range p.Data {
			p.Data[i] *= 3
		}
	}
	return m
}

// runFlow evaluates z and log|det| of the forward pass for the rows of x.
func runFlow(t *testing.T, m *RealNVP, x []float32) (z, logDet []float32) {
	t.Helper()
	batch := len(x) / m.D
	fg, err := m.BuildNLL(batch)
	if err != nil {
		t.Fatal(err)
	}
	copy(fg.X, x)
	prog := gradcheck.Run(t, fg.Bound, nil, fg.Z, fg.NLL)
	z = append([]float32(nil), prog.Value(fg.Z)...)
	// log|det| = 0.5|z|^2 + 0.5 D log 2pi - NLL, for one row.
	if batch == 1 {
		var sq float64
		for _, v := range z {
			sq += float64(v) * float64(v)
		}
		logDet = []float32{float32(0.5*sq + 0.5*float64(m.D)*math.Log(2*math.Pi) - prog.Scalar(fg.NLL))}
	}
	return z, logDet
}

// TestRealNVPInverts checks x -> z -> x within 1e-4 and that the masks
// alternate, so that every pixel is transformed by some layer.
func TestRealNVPInverts(t *testing.T) {
	m := smallRealNVP(t)
	rng := rand.New(rand.NewPCG(4, 4))
	x := make([]float32, 5*m.D)
	for i := range x {
		x[i] = float32(2 * rng.NormFloat64())
	}
	z, _ := runFlow(t, m, x)
	b, zin, back, err := m.BuildInverse(5)
	if err != nil {
		t.Fatal(err)
	}
	copy(zin, z)
	prog := gradcheck.Run(t, b, nil, back)
	for i, v := range prog.Value(back) {
		if math.Abs(float64(v-x[i])) > 1e-4*math.Max(1, math.Abs(float64(x[i]))) {
			t.Fatalf("x[%d] = %v after z and back, was %v", i, v, x[i])
		}
	}
	changed := make([]bool, m.D)
	for i, v := range z[:m.D] {
		changed[i] = v != x[i]
	}
	for j, c := range changed {
		if !c {
			t.Errorf("pixel %d passes through every layer unchanged", j)
		}
	}
	if m.Layers[0].KeepOdd == m.Layers[1].KeepOdd {
		t.Error("consecutive layers keep the same half")
	}
	if err := m.CheckMasks(); err != nil {
		t.Error(err)
	}
}

// realNVPForward64 is the flow's forward pass written out in float64 loops
// from its weights: the straightforward version the graph is checked against.
func realNVPForward64(m *RealNVP, x []float64) (z []float64, logDet float64) {
	z = append([]float64(nil), x...)
	for _, c := range m.Layers {
		h := make([]float64, m.D)
		for j := range h {
			h[j] = z[j] * float64(c.Mask.Data[j])
		}
		for li, l := range c.Net {
			o := make([]float64, l.Out)
			for r := range o {
				s := float64(l.Bias.Data[r])
				for k, v := range h {
					s += float64(l.Weight.Data[r*l.In+k]) * v
				}
				if li < len(c.Net)-1 {
					s = math.Max(0, s)
				}
				o[r] = s
			}
			h = o
		}
		for j := range z {
			if c.Mask.Data[j] == 1 {
				continue
			}
			s := math.Tanh(h[j])
			logDet += s
			z[j] = z[j]*math.Exp(s) + h[m.D+j]
		}
	}
	return z, logDet
}

// TestRealNVPLogDet checks, for single inputs, that the graph's z and
// log-determinant equal the float64 loops', and that the log-determinant is
// log|det J| of the Jacobian of x -> z taken by central differences (of
// the float64 version: the Jacobians of these deep random flows are too
// ill-conditioned for float32 differences).
func TestRealNVPLogDet(t *testing.T) {
	m := smallRealNVP(t)
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := range 6 {
		x := make([]float32, m.D)
		x64 := make([]float64, m.D)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			x64[i] = float64(x[i])
		}
		z, ld := runFlow(t, m, x)
		z64, ld64 := realNVPForward64(m, x64)
		for i := range z {
			if math.Abs(float64(z[i])-z64[i]) > 1e-4*math.Max(1, math.Abs(z64[i])) {
				t.Fatalf("trial %d: z[%d] = %v, the loops give %v", trial, i, z[i], z64[i])
			}
		}
		brute := gradcheck.JacobianLogDet(func(x []float64) []float64 {
			z, _ := realNVPForward64(m, x)
			return z
		}, x64, 1e-6)
		if math.Abs(brute-ld64) > 1e-4*math.Max(1, math.Abs(brute)) || math.Abs(float64(ld[0])-ld64) > 1e-4*math.Max(1, math.Abs(ld64)) {
			t.Errorf("trial %d: log|det| graph %v, loops %v, brute force %v", trial, ld[0], ld64, brute)
		}
	}
}

// TestRealNVPGradients checks the NLL's gradients against finite differences.
func TestRealNVPGradients(t *testing.T) {
	m, err := NewRealNVP(6, 8, 3, rand.New(rand.NewPCG(6, 6)))
	if err != nil {
		t.Fatal(err)
	}
	fg, err := m.BuildNLL(3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	gradcheck.FillNormal(rng, fg.X)
	gradcheck.CheckTrainable(t, fg.Bound, fg.Loss, m.Trainable(), 10)
}
