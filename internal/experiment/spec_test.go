package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// expandCase is an experiment file and the runs it expands to, or the error.
type expandCase struct {
	name  string
	yaml  string
	runs  []string // run names in order
	model []string
	err   string
}

// expandCases are TestExpand's files; FuzzLoad starts from them too.
func expandCases() []expandCase {
	return []expandCase{
		{"grid", "model: vae\nset: {train.epochs: 3}\ngrid:\n  vae.latent_dim: [2, 20]\n  vae.beta: [0.5, 1]\n",
			[]string{"vae.beta=0.5,vae.latent_dim=2", "vae.beta=0.5,vae.latent_dim=20", "vae.beta=1,vae.latent_dim=2", "vae.beta=1,vae.latent_dim=20"},
			[]string{"vae", "vae", "vae", "vae"}, ""},
		{"list values", "model: vae\ngrid:\n  vae.hidden: [[512, 256], [128]]\n",
			[]string{"vae.hidden=_512,256_", "vae.hidden=_128_"}, []string{"vae", "vae"}, ""},
		{"variants of several models", "variants:\n  - {name: vae, model: vae, set: {train.epochs: 1}}\n  - {name: gan, model: gan}\n",
			[]string{"vae", "gan"}, []string{"vae", "gan"}, ""},
		{"both", "model: vae\ngrid: {seed: [1]}\nvariants: [{name: a}]\n", nil, nil, "either grid or variants"},
		{"duplicate variant", "model: vae\nvariants: [{name: a}, {name: a}]\n", nil, nil, "two variants named a"},
		{"bad variant name", "model: vae\nvariants: [{name: a/b}]\n", nil, nil, "name \"a/b\""},
		{"bad value", "model: vae\ngrid:\n  vae.beta: [one]\n", nil, nil, "vae.beta"},
		{"grid without model", "grid: {seed: [1]}\n", nil, nil, "needs a model"},
		{"grid of 10^5 runs from aliases", "model: vae\ngrid: {seed: &s [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], train.epochs: *s, train.log_every: *s, vae.latent_dim: *s, train.batch_size: *s}\n",
			nil, nil, "the grid has more than 1000 runs"},
		{"repeated grid value", "model: vae\ngrid: {vae.beta: [0.5, 1, 0.5]}\n", nil, nil, "two grid runs are named vae.beta=0.5"},
		{"grid values reading the same", "model: vae\ngrid: {vae.beta: [1, 1.0]}\n", nil, nil, "two grid runs are named vae.beta=1"},
		{"grid values with the same folder name", "model: vae\ngrid: {data.dir: [a/b, a_b]}\n", nil, nil, "two grid runs are named data.dir=a_b"},
		{"negative zero is zero", "model: vae\ngrid: {vae.beta: [-0.0, 0]}\n", nil, nil, "two grid runs are named vae.beta=0"},
	}
}

// TestRunLimit checks the bound on an experiment's runs at its edge: a grid
// of exactly maxRuns loads, one more run of a grid or of variants does not.
func TestRunLimit(t *testing.T) {
	variants := func(n int) string {
		var b strings.Builder
		b.WriteString("model: vae\nvariants:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {name: v%d}\n", i)
		}
		return b.String()
	}
	cases := []struct {
		name string
		yaml string
		runs int
		err  string
	}{
		{"grid of 1000", "model: vae\ngrid: {seed: &s [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], train.epochs: *s, vae.latent_dim: *s}\n", 1000, ""},
		{"grid of 1001", "model: vae\ngrid: {seed: [1, 2, 3, 4, 5, 6, 7], train.epochs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], vae.latent_dim: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\n", 0,
			"the grid has more than 1000 runs"},
		{"1001 variants", variants(1001), 0, "1001 variants; an experiment has at most 1000 runs"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, runs, err := Load(path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil || len(runs) != c.runs {
				t.Fatalf("%d runs, %v; want %d", len(runs), err, c.runs)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, c := range expandCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			spec, runs, err := Load(path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != len(c.runs) {
				t.Fatalf("%d runs, want %d", len(runs), len(c.runs))
			}
			for i, r := range runs {
				if r.Name != c.runs[i] || r.Model != c.model[i] || r.Dir != filepath.Join(spec.Out, r.Name) {
					t.Errorf("run %d: %s (%s) in %s, want %s (%s)", i, r.Name, r.Model, r.Dir, c.runs[i], c.model[i])
				}
			}
			if spec.Out != filepath.Join("runs", strings.ReplaceAll(c.name, " ", "_")) {
				t.Errorf("default out %s", spec.Out)
			}
		})
	}
}

// TestCompareReadsRuns builds two run folders by hand and checks the
// table's figures, including wall time summed over a resumed session.
func TestCompareReadsRuns(t *testing.T) {
	dir := t.TempDir()
	write := func(run, metrics, eval string) {
		os.MkdirAll(filepath.Join(dir, run), 0o755)
		os.WriteFile(filepath.Join(dir, run, "config.yaml"), []byte("model: vae\n"), 0o644)
		os.WriteFile(filepath.Join(dir, run, "metrics.jsonl"), []byte(metrics), 0o644)
		if eval != "" {
			os.WriteFile(filepath.Join(dir, run, "eval.json"), []byte(eval), 0o644)
		}
	}
	write("a", `{"kind":"step","step":1,"epoch":1,"loss":5,"images_per_sec":10,"seconds":4}
{"kind":"epoch","step":2,"epoch":1,"loss":4,"test_loss":4.5,"images_per_sec":100,"seconds":10}
{"kind":"step","step":3,"epoch":2,"loss":3,"images_per_sec":10,"seconds":2}
{"kind":"epoch","step":4,"epoch":2,"loss":2,"test_loss":2.5,"images_per_sec":300,"seconds":6}
`, `{"fid":12.5,"precision":0.9,"recall":0.5,"classes":10,"sample_images_per_sec":1000}`)
	write("b", `{"kind":"epoch","step":2,"epoch":1,"loss":7,"images_per_sec":50,"seconds":3}
`, "")
	rows, err := Collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	SortByRun(rows)
	a := rows[0]
	if a.Epoch != 2 || a.Train["loss"] != 2 || a.Train["test_loss"] != 2.5 || a.TrainImagesPerSec != 200 || a.WallSeconds != 16 {
		t.Errorf("run a: %+v", a)
	}
	var md strings.Builder
	if err := Markdown(&md, rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| a | vae | 2 | 2 | 2.5000 | 12.5000 | 10 | 0.9000 | 0.5000 | 200 | 1000 | 16 |", "| b | vae | 1 | 7 | - | - |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, md.String())
		}
	}
	if _, err := Collect([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing folder was accepted")
	}
	os.WriteFile(filepath.Join(dir, "b", "metrics.jsonl"), []byte("{not json\n"), 0o644)
	if _, err := Collect([]string{filepath.Join(dir, "b")}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("a corrupt metrics.jsonl: %v", err)
	}
}

// TestShippedExperimentsLoad keeps the experiment files in experiments/
// valid.
func TestShippedExperimentsLoad(t *testing.T) {
	files, err := filepath.Glob("../../experiments/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no experiment files: %v", err)
	}
	for _, f := range files {
		if _, runs, err := Load(f); err != nil || len(runs) == 0 {
			t.Errorf("%s: %d runs, %v", f, len(runs), err)
		}
	}
}

// TestSeedTables renders the tables from a VAE and a GAN run made by hand.
func TestSeedTables(t *testing.T) {
	dir := t.TempDir()
	steps := func(name string, vals ...float64) string {
		var b strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&b, `{"kind":"step","step":%d,"epoch":1,"%s":%g,"seconds":1}`+"\n", i+1, name, v)
		}
		return b.String()
	}
	for _, r := range []struct{ name, model, metrics, eval string }{
		{"vae", "vae", steps("loss", 40, 35, 33, 32, 31, 31, 31, 31, 31, 31), `{"fid":290,"precision":0.97,"recall":0.33,"classes":10,"sample_images_per_sec":100000,"loss":31.1}`},
		{"gan", "gan", steps("loss_d", 1, 1.2, 0.9, 1.1, 1.3, 0.8, 1.2, 0.9, 1.4, 0.6), `{"fid":84,"precision":0.86,"recall":0.6,"classes":10,"sample_images_per_sec":20000}`},
	} {
		os.MkdirAll(filepath.Join(dir, r.name), 0o755)
		os.WriteFile(filepath.Join(dir, r.name, "config.yaml"), []byte("model: "+r.model+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, r.name, "metrics.jsonl"), []byte(r.metrics), 0o644)
		os.WriteFile(filepath.Join(dir, r.name, "eval.json"), []byte(r.eval), 0o644)
	}
	rows, err := Collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	ok, err := SeedTables(&b, rows)
	if err != nil || !ok {
		t.Fatalf("not rendered: %v", err)
	}
	for _, want := range []string{"| 生成质量 (sample quality) | FID 290.0, precision 0.970 | FID 84.0, precision 0.860 | - |",
		"| 采样速度 (sampling speed) | 100000 img/s | 20000 img/s | - |", "loss CV 0.000", "ELBO only: test loss 31.10"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, b.String())
		}
	}
	if ok, _ := SeedTables(&b, rows[:1]); ok {
		t.Error("one model rendered the comparison")
	}
}

// fuzzBaseConfig is the base config file beside every fuzzed experiment
// file, so that inputs naming `config: base.yaml` get past reading it.
const fuzzBaseConfig = "train:\n  epochs: 2\n"

// FuzzLoad loads an experiment file of arbitrary bytes. It must not panic
// or hang, and an error must name the file. What loads must load the same
// again once the parsed Spec is written back as YAML: the same runs, with
// the same names, models, base configs, overrides, folders and eval flags.
func FuzzLoad(f *testing.F) {
	for _, c := range expandCases() {
		f.Add([]byte(c.yaml))
	}
	files, err := filepath.Glob("../../experiments/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no experiment files: %v", err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{
		"model: vae\nconfig: base.yaml\ngrid: {vae.beta: [1, 2]}\neval: {n: 10, args: [--steps, '5']}\n",
		"model: vae\nconfig: missing.yaml\ngrid: {vae.beta: [1]}\n",
		"model: vae\ngrid: {vae.beta: [1]}\nextra: 1\n",
		"model: vae\neval: {n: -1}\ngrid: {vae.beta: [1]}\n",
		"variants: [{name: a, model: nope}]\n",
		"model: vae\nvariants: [{name: a, set: {train.epochs: x}}]\n",
		"v: &v [1, 2]\n",
		"model: vae\ngrid: {seed: &s [1, 2], train.epochs: *s}\n",
		"model: vae\nset: {train.grad_clip: -0.0, train.lr: .inf, data.dir: '1'}\ngrid: {train.eps: [.nan, 1e-300, 0x10]}\n",
		"model: vae\nvariants: [{name: 'a=1,b', set: {data.dir: !!binary aGVsbG8=, vae.hidden: [1, 2]}, eval: [--n, '3']}]\n",
		"model: vae\ngrid: {data.dir: [2001-12-14, 18446744073709551616, ~, true, 'x y', \"\\xff\"], vae.hidden: [[-0.0, 1]]}\n",
		"- 1\n",
		"",
		"model: [\n",
	} {
		f.Add([]byte(seed))
	}
	// One folder for every input, the files rewritten each time: a fresh
	// t.TempDir per input slows the fuzzer down several times. A worker
	// process runs its inputs one at a time, so they cannot collide.
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(fuzzBaseConfig), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		path := filepath.Join(dir, "exp.yaml")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		skipUnsafeConfig(t, dir, body)
		spec, runs, err := Load(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		if len(runs) == 0 {
			t.Fatal("loaded without runs")
		}
		dirs := map[string]bool{}
		for _, r := range runs {
			if dirs[r.Dir] {
				t.Fatalf("two runs in %s", r.Dir)
			}
			dirs[r.Dir] = true
		}
		again, err := yaml.Marshal(spec)
		if err != nil {
			t.Fatalf("the loaded spec does not marshal: %v", err)
		}
		path2 := filepath.Join(dir, "again.yaml")
		if err := os.WriteFile(path2, again, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path2) // so that the next input cannot name it as its config
		_, runs2, err := Load(path2)
		if err != nil {
			t.Fatalf("the loaded spec written back does not load: %v\n%s", err, again)
		}
		if len(runs2) != len(runs) {
			t.Fatalf("%d runs, then %d from the spec written back", len(runs), len(runs2))
		}
		for i, r := range runs {
			r2 := runs2[i]
			if r.Name != r2.Name || r.Model != r2.Model || r.Config != r2.Config || r.Dir != r2.Dir ||
				!slices.Equal(r.Overrides, r2.Overrides) || !slices.Equal(r.EvalArgs, r2.EvalArgs) {
				t.Fatalf("run %d: %+v, then %+v from the spec written back:\n%s", i, r, r2, again)
			}
		}
	})
}

// skipUnsafeConfig skips an input whose base config is not a small regular
// file: Load reads it whole, which for /dev/zero or a FIFO would never end.
// That is the user's choice of file, not a parser bug.
func skipUnsafeConfig(t *testing.T, dir string, body []byte) {
	var s struct {
		Config any `yaml:"config"`
	}
	if yaml.Unmarshal(body, &s) != nil {
		return // Load fails before reading the config
	}
	name, ok := s.Config.(string)
	if !ok || name == "" {
		return
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	if info, err := os.Stat(name); err == nil && !info.IsDir() && (!info.Mode().IsRegular() || info.Size() > 1<<20) {
		t.Skipf("config %s is not a small regular file", name)
	}
}
