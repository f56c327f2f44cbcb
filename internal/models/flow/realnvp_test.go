package flow

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
)

// Tests of realnvp's two architectures behind one configuration section.

// TestRealNVPConfigErrors checks that each bad value of the realnvp
// section is refused with an error naming its key.
func TestRealNVPConfigErrors(t *testing.T) {
	ms := modeltest.Set("realnvp.arch", "multiscale")
	cases := []struct {
		key       string // the key the error must name
		overrides []config.Override
	}{
		{"realnvp.arch", []config.Override{modeltest.Set("realnvp.arch", "conv")}},
		{"realnvp.arch", []config.Override{modeltest.Set("realnvp.arch", "")}},
		{"realnvp.scales", []config.Override{ms, modeltest.Set("realnvp.scales", "0")}},
		{"realnvp.scales", []config.Override{ms, modeltest.Set("realnvp.scales", "4")}}, // 28 is not divisible by 8
		{"realnvp.scales", []config.Override{ms, modeltest.Set("realnvp.scales", "99")}},
		{"data.image_size", []config.Override{ms, modeltest.Set("data.dataset", "folder"), modeltest.Set("data.image_size", "30")}},
		{"realnvp.channels", []config.Override{ms, modeltest.Set("realnvp.channels", "0")}},
		{"realnvp.blocks", []config.Override{ms, modeltest.Set("realnvp.blocks", "-1")}},
		{"realnvp.alpha", []config.Override{ms, modeltest.Set("realnvp.alpha", "0.5")}},
		{"realnvp.temperature", []config.Override{ms, modeltest.Set("realnvp.temperature", "0")}},
	}
	for _, c := range cases {
		cfg, err := config.Load("realnvp", "", c.overrides)
		if err == nil {
			_, err = (models.Entry{Name: "realnvp", Build: NewRealNVP}).New(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: error %v, want one naming %s", c.overrides, err, c.key)
		}
	}
}

// TestRealNVPArchMLP checks that arch mlp and a checkpoint's configuration
// saved before realnvp.arch existed (when the MLP was the only flow) both
// build flow_ref.py's MLP flow with the same weights as nets.NewRealNVP
// from the seed (the multiscale keys change nothing there), and that the
// default is the multi-scale flow.
func TestRealNVPArchMLP(t *testing.T) {
	want, err := nets.NewRealNVP(784, 1024, 8, models.InitRNG(0))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, m models.Model) {
		t.Helper()
		net, ok := m.(*Flow).net.(realnvpNet)
		if !ok {
			t.Fatalf("%s: the network is a %T", what, m.(*Flow).net)
		}
		got := net.params()
		if len(got) != len(want.Params.List()) {
			t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want.Params.List()))
		}
		for i, p := range want.Params.List() {
			if got[i].Name != p.Name || !slices.Equal(got[i].Shape, p.Shape) || !slices.Equal(got[i].Data, p.Data) {
				t.Fatalf("%s: tensor %d is %s %v, want %s %v with the same values", what, i, got[i].Name, got[i].Shape, p.Name, p.Shape)
			}
		}
	}
	net := modeltest.New(t, "realnvp", NewRealNVP, nil).(*Flow).net
	if _, ok := net.(multiscaleNet); !ok {
		t.Fatalf("the default network is a %T, want the multi-scale flow", net)
	}
	check("arch mlp", modeltest.New(t, "realnvp", NewRealNVP, nil, modeltest.Set("realnvp.arch", "mlp"),
		modeltest.Set("realnvp.channels", "3"), modeltest.Set("realnvp.blocks", "5"), modeltest.Set("realnvp.scales", "1")))

	// A configuration saved before the key: even with another default it
	// must still mean mlp.
	cfg := modeltest.Config(t, "realnvp", modeltest.Set("realnvp.arch", "multiscale"))
	full, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, line := range strings.Split(string(full), "\n") {
		if strings.TrimSpace(strings.SplitN(line, ":", 2)[0]) != "arch" {
			old = append(old, line)
		}
	}
	saved, err := config.LoadSaved("realnvp", "checkpoint", []byte(strings.Join(old, "\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := (models.Entry{Name: "realnvp", Build: NewRealNVP}).New(saved, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("saved before realnvp.arch", m)
}

// rampBatch is n copies of a horizontal ramp: structure a flow learns fast.
func rampBatch(n int) []float32 {
	x := make([]float32, n*784)
	for i := range x {
		x[i] = float32(i%28) / 27
	}
	return x
}

// TestRealNVPMultiscaleTrainsSamplesEvaluates runs a small multiscale flow
// through every path the commands use: the first training step initializes
// every ActNorm, 30 steps lower the loss on a fixed batch, samples at a
// temperature are finite images, and the test bits/dim of the training
// images is close to the training loss.
func TestRealNVPMultiscaleTrainsSamplesEvaluates(t *testing.T) {
	m := modeltest.New(t, "realnvp", NewRealNVP, nil, modeltest.Set("realnvp.arch", "multiscale"),
		modeltest.Set("realnvp.channels", "8"), modeltest.Set("realnvp.blocks", "1"),
		modeltest.Set("train.lr", "0.001"), modeltest.Set("eval.batch_size", "8")).(*Flow)
	net := m.net.(multiscaleNet)
	batch := modeltest.NoiseBatch(16)
	batch.X = rampBatch(16)
	first, err := m.TrainStep(batch, 0, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range net.Norms() {
		if a.Initialized.Data[0] != 1 {
			t.Fatalf("%s not initialized by the first step", a.Initialized.Name)
		}
	}
	start, last := first[0].Value, 0.0
	for step := int64(1); step < 30; step++ {
		ms, err := m.TrainStep(batch, step, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		last = ms[0].Value
	}
	if !(last < start-0.5) {
		t.Errorf("bits/dim went from %v to %v on one batch in 30 steps", start, last)
	}

	d, err := models.Draw(m, "realnvp", sample.Request{Kind: "prior", N: 5, Class: -1, Code: -1, Temperature: 0.7}, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Images.N != 5 || d.Images.H != 28 || len(d.Images.Pix) != 5*784 {
		t.Fatalf("%d images %dx%d", d.Images.N, d.Images.H, d.Images.W)
	}
	for _, f := range d.Facts {
		if f.Name == "nonfinite_samples" && f.Value != 0 {
			t.Errorf("%v samples overflowed", f.Value)
		}
	}

	test := &data.Dataset{Name: "ramps", N: 16, H: 28, W: 28, Pixels: rampBatch(16)}
	r, err := m.Evaluate(test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bpd := r.Metrics[0].Value; r.Images != 16 || math.IsNaN(bpd) || math.Abs(bpd-last) > 0.5 {
		t.Errorf("test bits/dim %v over %d images; the last training step gave %v", bpd, r.Images, last)
	}
}

// TestRealNVPMultiscaleEvalBatch checks the cap on the test graph's batch:
// about 1 GiB of activations, a divisor of the 10000 test images.
func TestRealNVPMultiscaleEvalBatch(t *testing.T) {
	for _, c := range []struct {
		channels, blocks string
		configured, want int
	}{
		{"16", "2", 1000, 100}, // 7.5 GB measured at 1000
		{"16", "2", 64, 64},
		{"4", "1", 1000, 500},
		{"128", "8", 1000, 10},
	} {
		m := modeltest.New(t, "realnvp", NewRealNVP, nil, modeltest.Set("realnvp.arch", "multiscale"),
			modeltest.Set("realnvp.channels", c.channels), modeltest.Set("realnvp.blocks", c.blocks)).(*Flow)
		if got := m.net.evalBatch(c.configured); got != c.want {
			t.Errorf("channels %s, blocks %s: eval batch %d of %d, want %d", c.channels, c.blocks, got, c.configured, c.want)
		}
	}
	if got := modeltest.New(t, "realnvp", NewRealNVP, nil, modeltest.Set("realnvp.arch", "mlp")).(*Flow).net.evalBatch(1000); got != 1000 {
		t.Errorf("the mlp's eval batch is %d, want eval.batch_size", got)
	}
}
