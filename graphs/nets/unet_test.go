package nets

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
	"github.com/genmodel/genmodel/graphs/layers"
)

// TestUNetParamsMatchReference checks the default UNet-S against the
// state_dict of ../shared/bench/ddpm_ref.py: its parameter count (538,177)
// and a sample of its keys and shapes.
func TestUNetParamsMatchReference(t *testing.T) {
	m, err := NewUNet(UNetConfig{Ch: 32, TEmb: 128, Groups: 8}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	shapes := map[string]string{}
	for _, p := range m.Params.List() {
		total += len(p.Data)
		shapes[p.Name] = fmt.Sprint(p.Shape)
	}
	if total != 538177 {
		t.Errorf("%d parameters, the reference has 538177", total)
	}
	for name, want := range map[string]string{
		"temb.0.weight": "[128 32]", "temb.2.bias": "[128]", "inc.weight": "[32 1 3 3]",
		"d1.n1.weight": "[32]", "d1.t.weight": "[32 128]", "d2.skip.weight": "[64 32 1 1]",
		"down2.weight": "[64 64 3 3]", "m2.c2.bias": "[64]", "u2.n1.weight": "[128]",
		"u2.skip.weight": "[64 128 1 1]", "up1.weight": "[32 64 3 3]", "out.0.bias": "[32]", "out.2.weight": "[1 32 3 3]",
	} {
		if shapes[name] != want {
			t.Errorf("%s: shape %q, want %s", name, shapes[name], want)
		}
	}
	if _, ok := shapes["d1.skip.weight"]; ok {
		t.Error("d1 keeps its channel count and has no skip convolution in the reference")
	}
}

// TestUNetGradients checks the whole network's gradients, conditional and
// not, on images and on a latent grid of several channels, against finite
// differences on a small instance.
func TestUNetGradients(t *testing.T) {
	tests := []struct {
		name string
		cfg  UNetConfig
	}{
		{"images", UNetConfig{Ch: 4, TEmb: 8, Groups: 2}},
		{"conditional", UNetConfig{Ch: 4, TEmb: 8, Groups: 2, Classes: 3}},
		{"latents 3x8x8", UNetConfig{Ch: 4, TEmb: 8, Groups: 2, Classes: 3, In: 3, Side: 8}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(i)))
			classes := tt.cfg.Classes
			m, err := NewUNet(tt.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			ng, err := BuildNoiseGraph(m, 2, true)
			if err != nil {
				t.Fatal(err)
			}
			if want := 2 * max(1, tt.cfg.In) * m.Side * m.Side; len(ng.XT) != want {
				t.Fatalf("x_t holds %d values, want %d", len(ng.XT), want)
			}
			for i := range ng.XT {
				ng.XT[i] = float32(rng.NormFloat64())
				ng.Target[i] = float32(rng.NormFloat64())
				ng.Weight[i] = float32(1 + rng.Float64())
			}
			layers.TimestepEmbedding(ng.TSin, []int{3, 700}, 4)
			if classes > 0 {
				ng.OneHot[1] = 1           // image 0: class 1
				ng.OneHot[classes+1+3] = 1 // image 1: no class
			}
			prog, lossFn := gradcheck.Compile(t, ng.Bound, ng.Loss)
			gradcheck.Check(t, prog, lossFn, 4)
		})
	}
}
