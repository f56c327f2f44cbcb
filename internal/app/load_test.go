package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/checkpoints"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// hideShipped makes the binary seem to ship no weights of model until t
// ends, and returns model.
func hideShipped(t *testing.T, model string) string {
	t.Helper()
	if _, err := models.Lookup(model); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shippedWeights = checkpoints.Shipped })
	shippedWeights = func(m string) ([]byte, bool) {
		if m == model {
			return nil, false
		}
		return checkpoints.Shipped(m)
	}
	return model
}

// freshCheckpoint saves a freshly initialized model of its defaults into
// DIR/checkpoints and returns DIR, a run folder.
func freshCheckpoint(t *testing.T, model string, sets ...config.Override) string {
	t.Helper()
	cfg, err := config.Load(model, "", sets)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	yml, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), model)
	meta := checkpoint.Meta{Model: model, Config: string(yml), Version: Version}
	if _, err := checkpoint.Save(filepath.Join(dir, "checkpoints"), m.Params(), m.Optimizers(), meta, 1); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDependencyLoader checks the one loader of trained models that others
// build on: from the flag, else the config key, the flag winning; and a
// one-line error naming where the path came from when it is missing or
// holds the wrong model.
func TestDependencyLoader(t *testing.T) {
	noisy, vae := freshCheckpoint(t, "noisy-classifier"), freshCheckpoint(t, "vae")
	dep := models.Dependency{Name: "guide", Key: "data.dir", Model: "noisy-classifier", Purpose: "the test's classifier"}
	cases := []struct {
		name       string
		flag, key  string
		wantErrHas []string // empty: loads
	}{
		{"flag", noisy, "", nil},
		{"config key", "", noisy, nil},
		{"flag over key", noisy, vae, nil},
		{"key holds the wrong model", "", vae, []string{"data.dir", "a vae checkpoint", "noisy-classifier"}},
		{"flag holds the wrong model", vae, noisy, []string{"--guide", "a vae checkpoint"}},
		{"not given: the shipped weights", "", "", nil},
		{"no such folder", filepath.Join(t.TempDir(), "nothing"), "", []string{"--guide"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sets []config.Override
			if c.key != "" {
				sets = append(sets, config.Override{Key: "data.dir", Value: c.key, Source: "test"})
			}
			cfg, err := config.Load("vae", "", sets)
			if err != nil {
				t.Fatal(err)
			}
			m, err := newDepLoader(cfg, map[string]string{"guide": c.flag}).Load(dep)
			if len(c.wantErrHas) == 0 {
				if err != nil || len(m.Kinds()) != 0 {
					t.Fatalf("got %v, %v; want the noisy classifier", m, err)
				}
				return
			}
			if err == nil {
				t.Fatal("loaded")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of several lines: %q", err)
			}
			for _, want := range c.wantErrHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
	// A dependency on a model that ships no weights, given nowhere.
	unshipped := hideShipped(t, "glow")
	missing := models.Dependency{Name: "guide", Key: "data.dir", Model: unshipped, Purpose: "the test's " + unshipped}
	cfg, err := config.Load("vae", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newDepLoader(cfg, nil).Load(missing); err == nil ||
		!strings.Contains(err.Error(), "--guide PATH") || !strings.Contains(err.Error(), "genmodel train --model "+unshipped) {
		t.Errorf("a dependency given nowhere, with no shipped weights: %v", err)
	}
	if _, err := loadTrained("", vae, nil, map[string]string{"guidance-classifier": noisy}); err == nil || !strings.Contains(err.Error(), "--guidance-classifier") {
		t.Errorf("a vae given a guidance classifier: %v", err)
	}
}

// TestDefaultWeights checks where sample and eval find weights without
// --checkpoint: runs/M's latest checkpoint, else the shipped ones, with
// --pretrained forcing those; each case says where its weights came from
// or fails naming what to do.
func TestDefaultWeights(t *testing.T) {
	t.Chdir(t.TempDir())
	run := freshCheckpoint(t, "classifier")
	latest, err := checkpoint.Resolve(run)
	if err != nil {
		t.Fatal(err)
	}
	// A model whose weights do not ship, for the cases that need one.
	unshipped := hideShipped(t, "glow")
	cases := []struct {
		name       string
		flags      DrawFlags
		runs       bool     // runs/classifier holds a run
		wantOrigin []string // empty: an error containing wantErr
		wantErr    []string
	}{
		{"shipped", DrawFlags{Model: "classifier"}, false, []string{"shipped", "checkpoints/classifier.safetensors (embedded)"}, nil},
		{"run folder first", DrawFlags{Model: "classifier"}, true, []string{filepath.Join("runs", "classifier"), "latest", "--pretrained"}, nil},
		{"pretrained over the run", DrawFlags{Model: "classifier", Pretrained: PretrainedOfModel}, true, []string{"shipped"}, nil},
		{"pretrained by name", DrawFlags{Pretrained: "classifier"}, true, []string{"shipped", "classifier.safetensors"}, nil},
		{"pretrained of another model", DrawFlags{Model: "vae", Pretrained: "classifier"}, false, nil, []string{"a classifier checkpoint, not vae"}},
		{"explicit checkpoint says nothing", DrawFlags{Checkpoint: run}, true, nil, nil},
		{"nothing to load", DrawFlags{Model: unshipped}, false, nil, []string{filepath.Join("runs", unshipped), "genmodel train --model " + unshipped, "--checkpoint"}},
		{"nothing shipped", DrawFlags{Model: unshipped, Pretrained: PretrainedOfModel}, false, nil, []string{"no weights named " + unshipped + " ship", "shipped: classifier", "drop --pretrained"}},
		{"no model", DrawFlags{}, false, nil, []string{"--model M", "--checkpoint"}},
		{"both", DrawFlags{Model: "classifier", Checkpoint: run, Pretrained: PretrainedOfModel}, false, nil, []string{"--checkpoint and --pretrained"}},
		{"unknown model", DrawFlags{Model: "vqgan"}, false, nil, []string{"vqgan"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.RemoveAll("runs")
			if c.runs {
				dir := filepath.Join("runs", "classifier", "checkpoints")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.CopyFS(dir, os.DirFS(filepath.Dir(latest))); err != nil {
					t.Fatal(err)
				}
			}
			m, err := loadDrawn(c.flags)
			if c.wantErr != nil || err != nil {
				for _, s := range c.wantErr {
					if err == nil || !strings.Contains(err.Error(), s) {
						t.Fatalf("error %v, want one containing %q", err, s)
					}
				}
				if c.wantErr == nil {
					t.Fatal(err)
				}
				return
			}
			if c.wantOrigin == nil && m.origin != "" {
				t.Errorf("origin %q for an explicit checkpoint", m.origin)
			}
			for _, s := range c.wantOrigin {
				if !strings.Contains(m.origin, s) {
					t.Errorf("origin %q, want it to contain %q", m.origin, s)
				}
			}
		})
	}
}

// TestGuidanceClassifierShipped checks that classifier guidance without
// --guidance-classifier guides with the shipped noisy classifier, saying so,
// and that a ddpm on another noise schedule refuses it, naming the flag.
func TestGuidanceClassifierShipped(t *testing.T) {
	if _, ok := checkpoints.Shipped("noisy-classifier"); !ok {
		t.Skip("no noisy-classifier weights ship")
	}
	linear := config.Override{Key: "ddpm.schedule", Value: "linear", Source: "test"}
	cases := []struct {
		name    string
		sets    []config.Override
		wantOut string // in stdout when it samples
		wantErr string // in the error when it refuses
	}{
		{"same schedule", nil, "using the shipped weights checkpoints/noisy-classifier.safetensors (embedded) as --guidance-classifier", ""},
		{"other schedule", []config.Override{linear}, "", "--guidance-classifier"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ck := freshCheckpoint(t, "ddpm", c.sets...)
			var out strings.Builder
			err := Sample(SampleOptions{
				DrawFlags: DrawFlags{Checkpoint: ck, Request: sample.Request{Class: 3, Code: -1,
					Diffusion: sample.Diffusion{Steps: 2, Guidance: "classifier", Scale: 1}}},
				N: 2, Out: filepath.Join(t.TempDir(), "guided.png"),
			}, &out)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v; want an error naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("output %q does not say %q", out.String(), c.wantOut)
			}
		})
	}
}

// TestWeakModelShipped checks where autoguidance's weak model comes from
// when nobody names one: the shipped ddpm-weak guides a ddpm that fits it,
// saying so, and a ddpm on another schedule samples unguided, as
// ddpm.guidance "" promises; a weak model named for it is refused, naming
// the flag.
func TestWeakModelShipped(t *testing.T) {
	if _, ok := checkpoints.Shipped("ddpm-weak"); !ok {
		t.Skip("no ddpm-weak weights ship")
	}
	linear := config.Override{Key: "ddpm.schedule", Value: "linear", Source: "test"}
	linearWeak := freshCheckpoint(t, "ddpm", linear, config.Override{Key: "ddpm.channels", Value: "8", Source: "test"},
		config.Override{Key: "ddpm.groups", Value: "2", Source: "test"})
	cases := []struct {
		name    string
		sets    []config.Override
		weak    string
		wantOut string // in stdout when it samples
		guided  bool   // whether the samples' facts say guidance auto
		wantErr string // in the error when it refuses
	}{
		{"default schedule", nil, "", "using the shipped weights checkpoints/ddpm-weak.safetensors (embedded) as --weak-model", true, ""},
		{"other schedule", []config.Override{linear}, "", "", false, ""},
		{"other schedule, its own weak model", []config.Override{linear}, linearWeak, "", true, ""},
		{"default schedule, a weak model of another", nil, linearWeak, "", false, "--weak-model: the weak model's noise schedule differs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ck := freshCheckpoint(t, "ddpm", c.sets...)
			var out strings.Builder
			err := Sample(SampleOptions{
				DrawFlags: DrawFlags{Checkpoint: ck, Deps: map[string]string{"weak-model": c.weak},
					Request: sample.Request{Class: -1, Code: -1, Diffusion: sample.Diffusion{Steps: 2}}},
				N: 2, Out: filepath.Join(t.TempDir(), "samples.png"),
			}, &out)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v; want an error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("output %q does not say %q", out.String(), c.wantOut)
			}
			if got := strings.Contains(out.String(), "; guidance auto;"); got != c.guided {
				t.Errorf("output %q: autoguided %v, want %v", out.String(), got, c.guided)
			}
			if c.wantOut == "" && strings.Contains(out.String(), "as --weak-model") {
				t.Errorf("output %q names a weak model it did not use", out.String())
			}
		})
	}
}
