package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs"
)

// sigma is sn's current estimate u^T W v.
func (sn *SpectralNorm) sigma() float64 {
	var s float64
	for o, uo := range sn.U.Data {
		for j, x := range sn.W.Data[o*sn.Cols : (o+1)*sn.Cols] {
			s += float64(uo) * float64(x) * float64(sn.V.Data[j])
		}
	}
	return s
}

// TestPowerIterationFindsSpectralNorm compares the estimate after many
// iterations with the largest singular value of a known matrix.
func TestPowerIterationFindsSpectralNorm(t *testing.T) {
	ps := graphs.NewParamSet()
	w := ps.Add("l.weight_orig", 5, 6)
	sn := NewSpectralNorm(ps, "l", w, rand.New(rand.NewPCG(1, 1)))
	for i, s := range []float32{3, 2, 1, 0.5, 0.25} {
		w.Data[i*6+i] = s
	}
	for i := 0; i < 50; i++ {
		sn.Step()
	}
	if sigma := sn.sigma(); math.Abs(sigma-3) > 1e-3 {
		t.Errorf("sigma %v, want 3", sigma)
	}
}
