package config

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "train:\n  epochs: 3\n  lr: 0.01\nvae:\n  latent_dim: 2\n")
	cases := []struct {
		name      string
		path      string
		overrides []Override
		epochs    int
		lr        float64
		latent    int
	}{
		{"defaults", "", nil, 10, 0.001, 20},
		{"file over defaults", file, nil, 3, 0.01, 2},
		{"flag over file", file, []Override{{Key: "train.epochs", Value: "7", Source: "flag --epochs"}}, 7, 0.01, 2},
		{"set over file", file, []Override{{Key: "vae.latent_dim", Value: "5", Source: "--set"}}, 3, 0.01, 5},
		{"int accepted for float", "", []Override{{Key: "train.lr", Value: "1", Source: "--set"}}, 10, 1, 20},
		{"last override wins", "", []Override{{Key: "train.epochs", Value: "1", Source: "--set"}, {Key: "train.epochs", Value: "2", Source: "flag --epochs"}}, 2, 0.001, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("vae", c.path, c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			com, err := cfg.Common()
			if err != nil {
				t.Fatal(err)
			}
			if com.Train.Epochs != c.epochs || com.Train.LR != c.lr || cfg.Int("vae.latent_dim") != c.latent {
				t.Errorf("epochs %d lr %g latent %d, want %d %g %d", com.Train.Epochs, com.Train.LR, cfg.Int("vae.latent_dim"), c.epochs, c.lr, c.latent)
			}
		})
	}
}

// errorCase is a VAE config file or overrides, and what its error says.
type errorCase struct {
	name      string
	file      string
	overrides []Override
	want      []string
}

// errorCases are TestErrorsNameKeyAndSource's; FuzzLoadSaved starts from
// their files too.
func errorCases() []errorCase {
	return []errorCase{
		{"unknown key in file", "vae:\n  latentdim: 2\n", nil, []string{"exp.yaml", "unknown key vae.latentdim", "latent_dim"}},
		{"unknown section", "optimizer:\n  lr: 1\n", nil, []string{"exp.yaml", "unknown key optimizer.lr"}},
		{"wrong type in file", "train:\n  epochs: ten\n", nil, []string{"exp.yaml", "train.epochs must be an integer", "ten"}},
		{"float for int", "train:\n  epochs: 1.5\n", nil, []string{"train.epochs must be an integer"}},
		{"bool", "data:\n  binarize: 1\n", nil, []string{"data.binarize must be true or false"}},
		{"list", "vae:\n  hidden: 256\n", nil, []string{"vae.hidden must be a list like [256, 128]"}},
		{"list element", "vae:\n  hidden: [a, b]\n", nil, []string{"vae.hidden must be a list"}},
		{"section as value", "train: 3\n", nil, []string{"key train is a section"}},
		{"other model", "model: gan\n", nil, []string{"model is \"gan\"", "--model gan"}},
		{"bad set", "", []Override{{Key: "vae.nope", Value: "1", Source: "--set"}}, []string{"--set: unknown key vae.nope"}},
		{"not yaml", "train: [\n", nil, []string{"exp.yaml: not valid YAML"}},
		{"not a mapping", "- 1\n- 2\n", nil, []string{"exp.yaml: a config file is a YAML mapping"}},
	}
}

func TestErrorsNameKeyAndSource(t *testing.T) {
	for _, c := range errorCases() {
		t.Run(c.name, func(t *testing.T) {
			path := ""
			if c.file != "" {
				path = writeFile(t, c.file)
			}
			_, err := Load("vae", path, c.overrides)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestUnknownModel(t *testing.T) {
	_, err := Load("vea", "", nil)
	if err == nil || !strings.Contains(err.Error(), `unknown model "vea"`) || !strings.Contains(err.Error(), "vae") {
		t.Fatalf("error %v, want it to name the model and list the known ones", err)
	}
}

// TestResolvedYAMLReproduces writes the resolved config and loads it back as a
// user file: the values must survive, comments too.
func TestResolvedYAMLReproduces(t *testing.T) {
	cfg, err := Load("vae", "", []Override{
		{Key: "vae.hidden", Value: "[64, 32]", Source: "--set"},
		{Key: "train.lr", Value: "0.0003", Source: "--set"},
		{Key: "data.dir", Value: "/tmp/x y", Source: "--set"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# Adam") || !strings.Contains(string(out), "hidden: [64, 32]") {
		t.Errorf("resolved YAML lost comments or list style:\n%s", out)
	}
	path := writeFile(t, string(out))
	if m, err := FileModel(path); err != nil || m != "vae" {
		t.Fatalf("FileModel = %q, %v", m, err)
	}
	again, err := Load("vae", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := again.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(out2) {
		t.Errorf("round trip changed the config:\n%s\n---\n%s", out, out2)
	}
	if again.Float("train.lr") != 0.0003 || again.String("data.dir") != "/tmp/x y" {
		t.Errorf("lr %v dir %q", again.Float("train.lr"), again.String("data.dir"))
	}
}

func TestEveryEmbeddedConfigLoads(t *testing.T) {
	for _, m := range Models() {
		cfg, err := Load(m, "", nil)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		com, err := cfg.Common()
		if err != nil || com.Model != m {
			t.Errorf("%s: common %+v, %v", m, com, err)
		}
	}
}

// TestDecodeKeepsDefaultsBesideOverride guards against viper's UnmarshalKey
// returning only the overridden keys of a section.
func TestDecodeKeepsDefaultsBesideOverride(t *testing.T) {
	cfg, err := Load("vae", "", []Override{{Key: "vae.latent_dim", Value: "8", Source: "--set"}})
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		LatentDim int   `mapstructure:"latent_dim"`
		Hidden    []int `mapstructure:"hidden"`
	}
	if err := cfg.Decode("vae", &s); err != nil {
		t.Fatal(err)
	}
	if s.LatentDim != 8 || len(s.Hidden) != 2 || s.Hidden[0] != 256 {
		t.Errorf("decoded %+v, want latent 8 and hidden [256 128]", s)
	}
}

// TestSavedConfigKeepsOldDefaults checks that a configuration genmodel saved
// before a key's default changed rebuilds the architecture its weights have:
// LoadSaved gives a missing changed key its old value, while a saved value,
// an override and a user's own file (Load) are untouched.
func TestSavedConfigKeepsOldDefaults(t *testing.T) {
	cfg, err := Load("dcgan", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	// A config saved before g_hidden, d_hidden and a default ema_decay existed.
	var old []string
	for _, line := range strings.Split(string(full), "\n") {
		key := strings.TrimSpace(strings.SplitN(line, ":", 2)[0])
		if key != "g_hidden" && key != "d_hidden" && key != "ema_decay" {
			old = append(old, line)
		}
	}
	oldBody := []byte(strings.Join(old, "\n"))
	withHidden := []byte(strings.Replace(strings.Join(old, "\n"), "dcgan:\n", "dcgan:\n  g_hidden: [64]\n", 1))
	cases := []struct {
		name      string
		load      func() (*Config, error)
		g, d, ema string
	}{
		{"saved before the keys", func() (*Config, error) { return LoadSaved("dcgan", "ck", oldBody, nil) }, "[]", "[]", "0"},
		{"saved with g_hidden", func() (*Config, error) { return LoadSaved("dcgan", "ck", withHidden, nil) }, "[64]", "[]", "0"},
		{"saved today", func() (*Config, error) { return LoadSaved("dcgan", "ck", full, nil) }, "[1024]", "[1024]", "0.999"},
		{"override wins", func() (*Config, error) {
			return LoadSaved("dcgan", "ck", oldBody, []Override{{Key: "dcgan.ema_decay", Value: "0.5", Source: "--set"}})
		}, "[]", "[]", "0.5"},
		{"a user's file takes today's defaults", func() (*Config, error) { return LoadFrom("dcgan", "mine.yaml", oldBody, nil) }, "[1024]", "[1024]", "0.999"},
	}
	for _, c := range cases {
		cfg, err := c.load()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := []string{fmt.Sprint(cfg.v.Get("dcgan.g_hidden")), fmt.Sprint(cfg.v.Get("dcgan.d_hidden")), fmt.Sprint(cfg.Float("dcgan.ema_decay"))}
		want := []string{strings.ReplaceAll(c.g, ",", ""), c.d, c.ema}
		if !slices.Equal(got, want) {
			t.Errorf("%s: g_hidden, d_hidden, ema_decay = %v, want %v", c.name, got, want)
		}
	}
}

// FuzzLoadSaved resolves a saved VAE configuration of arbitrary bytes. It
// must not panic, and an error must start with the source name. What
// resolves must decode into the shared sections, and its rendered YAML must
// resolve again to the same YAML.
func FuzzLoadSaved(f *testing.F) {
	for _, c := range errorCases() {
		f.Add([]byte(c.file))
	}
	for _, m := range Models() {
		cfg, err := Load(m, "", nil)
		if err != nil {
			f.Fatal(err)
		}
		out, err := cfg.YAML()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(out) // the VAE's resolves; the others' name another model
	}
	for _, seed := range []string{
		"train:\n  epochs: 3\n  lr: 0.01\nvae:\n  latent_dim: 2\n",
		"vae: {hidden: [64, 32]}\ndata: {dir: /tmp/x y, binarize: true}\n",
		"model: vae\nseed: 18446744073709551615\n",
		"train: {lr: 1}\n",
		"train: {lr: .nan, eps: .inf, grad_clip: -0.0}\n",
		"seed: -1\n",
		"train: {epochs: 0x10, batch_size: 1_000}\n",
		"\"train.epochs\": 3\n",
		"data: {dir: !!binary aGVsbG8=}\n",
		"a: &a {b: *a}\n",
		"",
		"---\n",
		"{}",
	} {
		f.Add([]byte(seed))
	}
	const source = "saved.yaml"
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg, err := LoadSaved("vae", source, body, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), source+": ") {
				t.Fatalf("error %q does not start with the source", err)
			}
			return
		}
		if _, err := cfg.Common(); err != nil {
			t.Fatalf("resolved but does not decode: %v", err)
		}
		out, err := cfg.YAML()
		if err != nil {
			t.Fatalf("resolved but does not render: %v", err)
		}
		again, err := LoadSaved("vae", source, out, nil)
		if err != nil {
			t.Fatalf("the rendered YAML does not resolve: %v\n%s", err, out)
		}
		if _, err := again.Common(); err != nil {
			t.Fatalf("the rendered YAML resolves but does not decode: %v", err)
		}
		out2, err := again.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if string(out2) != string(out) {
			t.Fatalf("rendered YAML changed on a second pass:\n%s\n---\n%s", out, out2)
		}
	})
}

// TestNegativeZeroRoundTrips is the regression test of a float key set to
// -0.0 (found by FuzzLoadSaved): it rendered as "-0", which YAML reads back
// as the integer 0, so the saved configuration did not resolve to itself.
func TestNegativeZeroRoundTrips(t *testing.T) {
	cfg, err := LoadSaved("vae", "saved.yaml", []byte("train: {grad_clip: -0.0}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Float("train.grad_clip"); v != 0 || math.Signbit(v) {
		t.Errorf("grad_clip = %v (sign bit %v), want +0", v, math.Signbit(v))
	}
	out, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadSaved("vae", "saved.yaml", out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out2, err := again.YAML(); err != nil || string(out2) != string(out) {
		t.Errorf("the saved configuration changed on reloading (%v):\n%s\n---\n%s", err, out, out2)
	}
}
