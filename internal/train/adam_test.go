package train

import (
	"math"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// adamReference is PyTorch's Adam in float64 for one scalar parameter.
func adamReference(w float64, grads []float64, lr, b1, b2, eps float64) float64 {
	var m, v float64
	for t, g := range grads {
		m = b1*m + (1-b1)*g
		v = b2*v + (1-b2)*g*g
		bc1 := 1 - math.Pow(b1, float64(t+1))
		bc2 := 1 - math.Pow(b2, float64(t+1))
		w -= lr / bc1 * m / (math.Sqrt(v)/math.Sqrt(bc2) + eps)
	}
	return w
}

func TestAdamMatchesReference(t *testing.T) {
	cases := []struct {
		name  string
		grads []float64
		cfg   AdamConfig
	}{
		{"one step is lr*sign", []float64{0.5}, AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
		{"varying grads", []float64{0.5, -1, 2, 0.01, -0.3}, AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
		{"gan betas", []float64{1, 1, -1, 3}, AdamConfig{LR: 2e-4, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := graphs.NewParamSet()
			p := ps.Add("w", 1)
			p.Data[0] = 1
			a := NewAdam(c.cfg, ps.List())
			for _, g := range c.grads {
				if err := a.Update(ps.List(), [][]float32{{float32(g)}}); err != nil {
					t.Fatal(err)
				}
			}
			want := adamReference(1, c.grads, c.cfg.LR, c.cfg.Beta1, c.cfg.Beta2, c.cfg.Eps)
			if got := float64(p.Data[0]); math.Abs(got-want) > 1e-6 {
				t.Errorf("w = %.8f, want %.8f", got, want)
			}
		})
	}
}

// TestAdamWarmup checks the linear warm-up: with beta1 = beta2 = 0 and eps 0
// each step moves w by exactly the step's learning rate.
func TestAdamWarmup(t *testing.T) {
	ps := graphs.NewParamSet()
	p := ps.Add("w", 1)
	a := NewAdam(AdamConfig{LR: 1, WarmupSteps: 4}, ps.List())
	var moves []float32
	for range 6 {
		before := p.Data[0]
		if err := a.Update(ps.List(), [][]float32{{1}}); err != nil {
			t.Fatal(err)
		}
		moves = append(moves, before-p.Data[0])
	}
	want := []float32{0.25, 0.5, 0.75, 1, 1, 1}
	for i := range want {
		if math.Abs(float64(moves[i]-want[i])) > 1e-6 {
			t.Fatalf("steps moved w by %v, want %v", moves, want)
		}
	}
}

// TestAdamCosine checks the cosine decay after a warm-up, the same way: each
// step moves w by its learning rate, LR/2 (1 + cos(pi (step-w)/(total-w))),
// and 0 past the run's last update.
func TestAdamCosine(t *testing.T) {
	ps := graphs.NewParamSet()
	p := ps.Add("w", 1)
	a := NewAdam(AdamConfig{LR: 1, WarmupSteps: 2, Schedule: ScheduleCosine, TotalSteps: 6}, ps.List())
	var moves []float64
	for range 7 {
		before := p.Data[0]
		if err := a.Update(ps.List(), [][]float32{{1}}); err != nil {
			t.Fatal(err)
		}
		moves = append(moves, float64(before-p.Data[0]))
	}
	s := math.Sqrt(2) / 2
	want := []float64{0.5, 1, (1 + s) / 2, 0.5, (1 - s) / 2, 0, 0}
	for i := range want {
		if math.Abs(moves[i]-want[i]) > 1e-6 {
			t.Fatalf("steps moved w by %v, want %v", moves, want)
		}
	}
	if got := a.AppendLR(nil); len(got) != 1 || got[0].Name != "lr" || got[0].Value != 0 {
		t.Errorf("AppendLR = %v, want lr 0", got)
	}
}

// TestAdamDecaySteps checks the warm-up, stable, decay shape: the rate holds
// LR until DecaySteps updates before the end, then follows the cosine over
// those updates only.
func TestAdamDecaySteps(t *testing.T) {
	s := math.Sqrt(2) / 2
	for _, c := range []struct {
		name string
		cfg  AdamConfig
		want []float64 // the rate of updates 1, 2, ...
	}{
		{"decay over the last 4", AdamConfig{LR: 1, WarmupSteps: 2, Schedule: ScheduleCosine, DecaySteps: 4, TotalSteps: 8},
			[]float64{0.5, 1, 1, 1, (1 + s) / 2, 0.5, (1 - s) / 2, 0, 0}},
		{"longer than the run after the warm-up", AdamConfig{LR: 1, WarmupSteps: 2, Schedule: ScheduleCosine, DecaySteps: 100, TotalSteps: 6},
			[]float64{0.5, 1, (1 + s) / 2, 0.5, (1 - s) / 2, 0, 0}},
		{"no warm-up", AdamConfig{LR: 1, Schedule: ScheduleCosine, DecaySteps: 2, TotalSteps: 4},
			[]float64{1, 1, 0.5, 0, 0}},
	} {
		for i, w := range c.want {
			if got := c.cfg.rate(int64(i + 1)); math.Abs(got-w) > 1e-12 {
				t.Errorf("%s: rate(%d) = %v, want %v", c.name, i+1, got, w)
			}
		}
	}
}

func TestCheckSchedule(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{{"", true}, {"constant", true}, {"cosine", true}, {"linear", false}, {"Cosine", false}} {
		if err := CheckSchedule(c.name); (err == nil) != c.ok {
			t.Errorf("CheckSchedule(%q) = %v", c.name, err)
		}
	}
}

func TestAdamGradClipping(t *testing.T) {
	ps := graphs.NewParamSet()
	p := ps.Add("w", 2)
	a := NewAdam(AdamConfig{LR: 1, Beta1: 0, Beta2: 0, Eps: 0, GradClip: 1}, ps.List())
	// Norm 5 is clipped to 1; with beta1 = beta2 = 0 and eps 0 the step is
	// g/|g| elementwise, so clipping shows only in LastGradNorm and in m.
	if err := a.Update(ps.List(), [][]float32{{3, 4}}); err != nil {
		t.Fatal(err)
	}
	if a.LastGradNorm != 5 {
		t.Errorf("norm %v, want 5", a.LastGradNorm)
	}
	if m := a.m[0]; math.Abs(float64(m[0])-0.6) > 1e-6 || math.Abs(float64(m[1])-0.8) > 1e-6 {
		t.Errorf("clipped first moment %v, want [0.6 0.8]", m)
	}
	if p.Data[0] != -1 || p.Data[1] != -1 {
		t.Errorf("w = %v, want [-1 -1]", p.Data)
	}
}

func TestAdamRejectsForeignParameter(t *testing.T) {
	ps := graphs.NewParamSet()
	a := NewAdam(AdamConfig{LR: 1, Beta1: 0.9, Beta2: 0.9}, []*graphs.Param{ps.Add("w", 1)})
	other := graphs.NewParamSet().Add("x", 1)
	if err := a.Update([]*graphs.Param{other}, [][]float32{{1}}); err == nil {
		t.Fatal("no error for a parameter the optimizer does not own")
	}
}

func TestAdamStateRoundTrip(t *testing.T) {
	ps := graphs.NewParamSet()
	ps.Add("a", 2, 2)
	ps.Add("b", 3)
	cfg := AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	a := NewAdam(cfg, ps.List())
	for i := 0; i < 3; i++ {
		a.Update(ps.List(), [][]float32{{1, -2, 3, -4}, {0.5, 0.25, -1}})
	}
	ts, md := a.StateTensors("adam")
	f := &safetensors.File{Tensors: ts, Metadata: md}
	b := NewAdam(cfg, ps.List())
	if err := b.LoadStateTensors("adam", f); err != nil {
		t.Fatal(err)
	}
	if b.Steps != 3 {
		t.Errorf("steps %d, want 3", b.Steps)
	}
	for i := range a.m {
		for j := range a.m[i] {
			if a.m[i][j] != b.m[i][j] || a.v[i][j] != b.v[i][j] {
				t.Fatalf("moment %d/%d differs after round trip", i, j)
			}
		}
	}
	delete(md, "adam.step")
	if err := b.LoadStateTensors("adam", &safetensors.File{Tensors: ts, Metadata: md}); err == nil {
		t.Error("no error for state without a step count")
	}
	if err := b.LoadStateTensors("adam", &safetensors.File{Tensors: ts[:1], Metadata: map[string]string{"adam.step": "3"}}); err == nil {
		t.Error("no error for missing moments")
	}
}

// TestAdamParallelUpdateMatchesSerial checks the two-goroutine path of a
// large model against the same update done serially, bit for bit.
func TestAdamParallelUpdateMatchesSerial(t *testing.T) {
	ps := graphs.NewParamSet()
	big := ps.Add("big", 300, 301) // odd element count: halves differ in size
	small := ps.Add("small", 7)
	grads := [][]float32{make([]float32, len(big.Data)), make([]float32, len(small.Data))}
	for i := range grads {
		for j := range grads[i] {
			grads[i][j] = float32(j%13) - 6
		}
	}
	cfg := AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	a := NewAdam(cfg, ps.List())
	want := [][]float32{append([]float32(nil), big.Data...), append([]float32(nil), small.Data...)}
	wm := [][]float32{make([]float32, len(big.Data)), make([]float32, len(small.Data))}
	wv := [][]float32{make([]float32, len(big.Data)), make([]float32, len(small.Data))}
	for step := 1; step <= 3; step++ {
		if err := a.Update(ps.List(), grads); err != nil {
			t.Fatal(err)
		}
		c := adamStep{B1: 0.9, B2: 0.999, Scale: 1, Eps: 1e-8,
			StepSize: float32(1e-3 / (1 - math.Pow(0.9, float64(step)))), SqrtBC2: float32(math.Sqrt(1 - math.Pow(0.999, float64(step))))}
		for i := range want {
			c.apply(want[i], grads[i], wm[i], wv[i])
		}
	}
	for i, p := range ps.List() {
		for j := range p.Data {
			if p.Data[j] != want[i][j] {
				t.Fatalf("%s[%d] = %v, serial update gives %v", p.Name, j, p.Data[j], want[i][j])
			}
		}
	}
}
