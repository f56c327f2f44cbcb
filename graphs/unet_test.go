package graphs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
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
// not, against finite differences on a small instance.
func TestUNetGradients(t *testing.T) {
	for _, classes := range []int{0, 3} {
		t.Run(fmt.Sprintf("classes=%d", classes), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(classes)))
			m, err := NewUNet(UNetConfig{Ch: 4, TEmb: 8, Groups: 2, Classes: classes}, rng)
			if err != nil {
				t.Fatal(err)
			}
			ng, err := BuildNoiseGraph(m, 2, true)
			if err != nil {
				t.Fatal(err)
			}
			for i := range ng.XT {
				ng.XT[i] = float32(rng.NormFloat64())
				ng.Eps[i] = float32(rng.NormFloat64())
			}
			TimestepEmbedding(ng.TSin, []int{3, 700}, 4)
			if classes > 0 {
				ng.OneHot[1] = 1           // image 0: class 1
				ng.OneHot[classes+1+3] = 1 // image 1: no class
			}
			prog, lossFn := compileChecked(t, ng.Bound, ng.Loss)
			checkGradients(t, prog, lossFn, 4)
		})
	}
}

func TestTimestepEmbedding(t *testing.T) {
	dst := make([]float32, 2*8)
	TimestepEmbedding(dst, []int{0, 500}, 8)
	want0 := []float32{0, 0, 0, 0, 1, 1, 1, 1}
	for i, w := range want0 {
		if dst[i] != w {
			t.Fatalf("t=0: %v, want %v", dst[:8], want0)
		}
	}
	// f_1 = 10000^(-1/4) = 0.1: sin(50) and cos(50).
	if math.Abs(float64(dst[8+1])-math.Sin(50)) > 1e-5 || math.Abs(float64(dst[8+5])-math.Cos(50)) > 1e-5 {
		t.Errorf("t=500, i=1: %v, %v; want sin(50), cos(50)", dst[9], dst[13])
	}
}

// TestStaleArenaValuesDoNotLeak poisons every reused op output with NaN
// between two identical runs of a UNet training graph: ops that skip
// clearing their outputs must write every element, so the loss and every
// gradient come out the same.
func TestStaleArenaValuesDoNotLeak(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	m, err := NewUNet(UNetConfig{Ch: 8, TEmb: 8, Groups: 2}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ng, err := BuildNoiseGraph(m, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ng.XT {
		ng.XT[i] = float32(rng.NormFloat64())
		ng.Eps[i] = float32(rng.NormFloat64())
	}
	TimestepEmbedding(ng.TSin, []int{3, 700, 999}, 8)
	prog, err := Compile(ng.Bound, ng.Loss, Outputs{ng.Loss})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	run := func() (float64, [][]float32) {
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		var grads [][]float32
		for _, g := range prog.Grads() {
			grads = append(grads, append([]float32(nil), g...))
		}
		return prog.Scalar(ng.Loss), grads
	}
	loss, grads := run()
	nan := float32(math.NaN())
	for _, buf := range prog.arena.bufs {
		data := buf.Data().([]float32)
		for i := range data {
			data[i] = nan
		}
	}
	loss2, grads2 := run()
	if loss2 != loss {
		t.Fatalf("loss %v after poisoning the arena, %v before", loss2, loss)
	}
	for i, g := range grads {
		for j, v := range g {
			if grads2[i][j] != v {
				t.Fatalf("gradient of %s[%d]: %v after poisoning the arena, %v before", prog.Params()[i].Name, j, grads2[i][j], v)
			}
		}
	}
}
