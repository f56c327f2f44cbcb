package nets

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

func tinyPixelCNN(t *testing.T, cfg PixelCNNConfig) *PixelCNN {
	t.Helper()
	m, err := NewPixelCNN(cfg, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPixelCNNParamNamesMatchPyTorch(t *testing.T) {
	m := tinyPixelCNN(t, PixelCNNConfig{Height: 28, Width: 28, InCategories: 2, OutCategories: 2,
		Channels: 8, Layers: 2, FirstKernel: 7, Kernel: 3, Head: 16, Classes: 10})
	want := []struct {
		name  string
		shape []int
	}{
		{"layers.0.v_conv.weight", []int{16, 1, 7, 7}}, {"layers.0.v_conv.bias", []int{16}},
		{"layers.0.v_to_h.weight", []int{16, 16, 1, 1}}, {"layers.0.v_to_h.bias", []int{16}},
		{"layers.0.h_conv.weight", []int{16, 1, 1, 3}}, {"layers.0.h_conv.bias", []int{16}},
		{"layers.0.h_out.weight", []int{8, 8, 1, 1}}, {"layers.0.h_out.bias", []int{8}},
		{"layers.0.v_class.weight", []int{10, 16}}, {"layers.0.h_class.weight", []int{10, 16}},
		{"layers.1.v_conv.weight", []int{16, 8, 3, 3}}, {"layers.1.v_conv.bias", []int{16}},
		{"layers.1.v_to_h.weight", []int{16, 16, 1, 1}}, {"layers.1.v_to_h.bias", []int{16}},
		{"layers.1.h_conv.weight", []int{16, 8, 1, 2}}, {"layers.1.h_conv.bias", []int{16}},
		{"layers.1.h_out.weight", []int{8, 8, 1, 1}}, {"layers.1.h_out.bias", []int{8}},
		{"layers.1.v_class.weight", []int{10, 16}}, {"layers.1.h_class.weight", []int{10, 16}},
		{"out.1.weight", []int{16, 8, 1, 1}}, {"out.1.bias", []int{16}},
		{"out.3.weight", []int{1, 16, 1, 1}}, {"out.3.bias", []int{1}},
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
}

func TestPixelCNNConfigErrors(t *testing.T) {
	good := PixelCNNConfig{Height: 4, Width: 4, InCategories: 2, OutCategories: 2, Channels: 2, Layers: 1, FirstKernel: 3, Kernel: 3, Head: 2}
	if _, err := NewPixelCNN(good, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*PixelCNNConfig){
		"no grid":       func(c *PixelCNNConfig) { c.Height = 0 },
		"one category":  func(c *PixelCNNConfig) { c.OutCategories = 1 },
		"no layers":     func(c *PixelCNNConfig) { c.Layers = 0 },
		"even kernel":   func(c *PixelCNNConfig) { c.Kernel = 4 },
		"kernel 1":      func(c *PixelCNNConfig) { c.FirstKernel = 1 },
		"no head":       func(c *PixelCNNConfig) { c.Head = 0 },
		"minus classes": func(c *PixelCNNConfig) { c.Classes = -1 },
	} {
		cfg := good
		edit(&cfg)
		if _, err := NewPixelCNN(cfg, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPixelCNNGradients checks the gradient of the mean negative
// log-likelihood for every parameter against finite differences: binary
// and class-conditional, and categorical (the prior over codes).
func TestPixelCNNGradients(t *testing.T) {
	cases := map[string]PixelCNNConfig{
		"binary conditional": {Height: 5, Width: 4, InCategories: 2, OutCategories: 2, Channels: 3, Layers: 2, FirstKernel: 5, Kernel: 3, Head: 4, Classes: 3},
		"categorical":        {Height: 3, Width: 4, InCategories: 4, OutCategories: 4, Channels: 3, Layers: 2, FirstKernel: 3, Kernel: 3, Head: 4},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			m := tinyPixelCNN(t, cfg)
			s, err := m.Build(2)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 5))
			k := min(cfg.InCategories, cfg.OutCategories)
			v := make([]int, 2*cfg.Height*cfg.Width)
			for i := range v {
				v[i] = rng.IntN(k)
			}
			s.SetValues(v)
			if cfg.Classes > 0 {
				s.SetClasses([]int{2, 0})
			}
			gradcheck.CheckTrainable(t, s.Bound, s.Loss, m.Params.List(), 12)
		})
	}
}

// TestPixelCNNIsCausal checks the receptive field: changing the input at
// position j (raster order) leaves the logits at every i <= j as they were
// and changes some after it; and there is no blind spot: the input at each
// position of the rows above within the first layer's reach, up-right ones
// included, and the first kernel's left neighbours in the row changes the
// logits at (r, c).
func TestPixelCNNIsCausal(t *testing.T) {
	cfg := PixelCNNConfig{Height: 7, Width: 6, InCategories: 2, OutCategories: 2, Channels: 4, Layers: 3, FirstKernel: 5, Kernel: 3, Head: 4, Classes: 2}
	m := tinyPixelCNN(t, cfg)
	s, err := m.Build(1)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	base := make([]float32, 42)
	gradcheck.FillNormal(rng, base)
	s.SetClasses([]int{1})
	logits := func(x []float32) []float32 {
		copy(s.X, x)
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(prog.Value(s.Logits))
	}
	ref := logits(base)
	w := cfg.Width
	influences := make([][]bool, len(base)) // [j][i]: input j changes logit i
	for j := range base {
		x := slices.Clone(base)
		x[j] += 1
		got := logits(x)
		influences[j] = make([]bool, len(base))
		later := false
		for i := range got {
			influences[j][i] = got[i] != ref[i]
			if i <= j && influences[j][i] {
				t.Errorf("input (%d,%d) changes the logit at (%d,%d), not after it", j/w, j%w, i/w, i%w)
			}
			later = later || (i > j && influences[j][i])
		}
		if !later && j < len(base)-1 {
			t.Errorf("input (%d,%d) changes no later logit", j/w, j%w)
		}
	}
	reach := cfg.FirstKernel / 2
	for r := range cfg.Height {
		for c := range w {
			for dc := -reach; dc <= reach; dc++ {
				if r > 0 && c+dc >= 0 && c+dc < w && !influences[(r-1)*w+c+dc][r*w+c] {
					t.Errorf("blind spot: input (%d,%d) does not reach the logit at (%d,%d)", r-1, c+dc, r, c)
				}
			}
			for dc := 1; dc <= reach && c-dc >= 0; dc++ {
				if !influences[r*w+c-dc][r*w+c] {
					t.Errorf("input (%d,%d) does not reach the logit at (%d,%d)", r, c-dc, r, c)
				}
			}
		}
	}
}
