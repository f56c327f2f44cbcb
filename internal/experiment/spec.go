// Package experiment runs a set of training runs described in a YAML file
// (a grid over config keys or a list of named variants), each in its own
// folder, skipping finished runs and resuming interrupted ones, and
// compares runs in one table.
package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	_ "github.com/genmodel/genmodel/internal/models/all" // the models runs may name
)

// Spec is an experiment file.
type Spec struct {
	// Model is the runs' model unless a variant names its own.
	Model string `yaml:"model"`
	// Config is an optional base config file, relative to the experiment file.
	Config string `yaml:"config"`
	// Set holds config overrides for every run (key: YAML value).
	Set map[string]any `yaml:"set"`
	// Grid crosses lists of values of config keys: every combination is a run.
	Grid map[string][]any `yaml:"grid"`
	// Variants are named runs, instead of a grid.
	Variants []Variant `yaml:"variants"`
	// Eval scores each run after training.
	Eval EvalSpec `yaml:"eval"`
	// Out is the experiment folder (default runs/<file name without .yaml>),
	// relative to the working directory.
	Out string `yaml:"out"`
}

// Variant is one named run.
type Variant struct {
	Name  string         `yaml:"name"`
	Model string         `yaml:"model"`
	Set   map[string]any `yaml:"set"`
	// Eval holds extra eval flags of this run (e.g. ["--steps", "100"]).
	Eval []string `yaml:"eval"`
}

// EvalSpec is what `eval` measures of each run.
type EvalSpec struct {
	N    int      `yaml:"n"`    // samples scored (0: the model's own figures only)
	Args []string `yaml:"args"` // extra eval flags for every run
}

// Run is one expanded run of an experiment.
type Run struct {
	Name      string
	Model     string
	Config    string // base config file, absolute, or ""
	Overrides []config.Override
	Dir       string
	EvalArgs  []string
}

// Load reads an experiment file and expands it into runs, each checked:
// its model exists and its configuration resolves (unknown keys and bad
// values are errors here, before anything trains).
func Load(path string) (*Spec, []Run, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		msg := err.Error()
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msg = strings.Join(te.Errors, "; ") // one line, not yaml's list
		}
		return nil, nil, fmt.Errorf("%s: %s (keys: model, config, set, grid, variants, eval, out)", path, msg)
	}
	if s.Out == "" {
		s.Out = filepath.Join("runs", strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	}
	if s.Config != "" && !filepath.IsAbs(s.Config) {
		s.Config = filepath.Join(filepath.Dir(path), s.Config)
	}
	runs, err := s.expand()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range runs {
		if _, err := models.Lookup(r.Model); err != nil {
			return nil, nil, fmt.Errorf("%s: run %s: %w", path, r.Name, err)
		}
		if _, err := config.Load(r.Model, r.Config, r.Overrides); err != nil {
			return nil, nil, fmt.Errorf("%s: run %s: %w", path, r.Name, err)
		}
	}
	return &s, runs, nil
}

// maxRuns bounds the runs of one experiment. A grid's runs multiply, so a
// file of a hundred bytes (aliases repeating one list of values under many
// keys) could otherwise ask for billions of runs, and Load, which builds and
// checks every one, would exhaust memory instead of answering. Each run
// trains for minutes at least, so no real experiment comes near.
const maxRuns = 1000

// expand lists the runs of the grid or the variants.
func (s *Spec) expand() ([]Run, error) {
	switch {
	case len(s.Grid) > 0 && len(s.Variants) > 0:
		return nil, fmt.Errorf("give either grid or variants, not both")
	case len(s.Grid) == 0 && len(s.Variants) == 0:
		return nil, fmt.Errorf("no runs: give a grid (key: [values]) or variants")
	case s.Eval.N < 0:
		return nil, fmt.Errorf("eval.n must not be negative")
	case len(s.Variants) > maxRuns:
		return nil, fmt.Errorf("%d variants; an experiment has at most %d runs", len(s.Variants), maxRuns)
	}
	base := overrides(s.Set, "set")
	var runs []Run
	if len(s.Grid) > 0 {
		if s.Model == "" {
			return nil, fmt.Errorf("a grid needs a model")
		}
		keys := make([]string, 0, len(s.Grid))
		for k, vs := range s.Grid {
			if len(vs) == 0 {
				return nil, fmt.Errorf("grid key %s has no values", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := 1
		for _, k := range keys {
			if n > maxRuns/len(s.Grid[k]) {
				return nil, fmt.Errorf("the grid has more than %d runs, the most an experiment may have", maxRuns)
			}
			n *= len(s.Grid[k])
		}
		combos := [][]config.Override{nil}
		for _, k := range keys {
			var next [][]config.Override
			for _, c := range combos {
				for _, v := range s.Grid[k] {
					o := config.Override{Key: k, Value: yamlValue(v), Source: "grid " + k}
					next = append(next, append(append([]config.Override(nil), c...), o))
				}
			}
			combos = next
		}
		named := map[string]bool{}
		for _, c := range combos {
			parts := make([]string, len(c))
			for i, o := range c {
				parts[i] = o.Key + "=" + o.Value
			}
			name := safeName(strings.Join(parts, ","))
			if named[name] {
				// Two runs would share one folder and overwrite each
				// other's checkpoints.
				return nil, fmt.Errorf("two grid runs are named %s: a value is repeated, or two values read the same (1 and 1.0) or differ only in characters a folder name cannot hold", name)
			}
			named[name] = true
			runs = append(runs, Run{Name: name, Model: s.Model, Config: s.Config,
				Overrides: append(append([]config.Override(nil), base...), c...), EvalArgs: s.Eval.Args})
		}
	}
	seen := map[string]bool{}
	for i, v := range s.Variants {
		if v.Name == "" || safeName(v.Name) != v.Name {
			return nil, fmt.Errorf("variant %d: name %q must be non-empty, of letters, digits, '.', '-', '_', '=' and ','", i+1, v.Name)
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("two variants named %s", v.Name)
		}
		seen[v.Name] = true
		model := v.Model
		if model == "" {
			model = s.Model
		}
		if model == "" {
			return nil, fmt.Errorf("variant %s: no model (set model at the top or in the variant)", v.Name)
		}
		cfg := s.Config
		if model != s.Model {
			cfg = "" // the base config file belongs to the top-level model
		}
		runs = append(runs, Run{Name: v.Name, Model: model, Config: cfg,
			Overrides: append(append([]config.Override(nil), base...), overrides(v.Set, "variant "+v.Name)...),
			EvalArgs:  append(append([]string(nil), s.Eval.Args...), v.Eval...)})
	}
	for i := range runs {
		runs[i].Dir = filepath.Join(s.Out, runs[i].Name)
	}
	return runs, nil
}

// overrides turns a set map into config overrides, in key order.
func overrides(set map[string]any, source string) []config.Override {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []config.Override
	for _, k := range keys {
		out = append(out, config.Override{Key: k, Value: yamlValue(set[k]), Source: source + " " + k})
	}
	return out
}

// yamlValue renders a value as the YAML text config overrides take.
func yamlValue(v any) string {
	if f, ok := v.(float64); ok && f == 0 {
		// -0.0 would render as "-0", which YAML reads back as the
		// integer 0: the same setting, but another run name when the
		// spec is written out and read again.
		v = 0.0
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSpace(string(b))
	if l, ok := v.([]any); ok && len(l) > 0 {
		// Flow style, so that a list stays on one line in run names.
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = yamlValue(x)
		}
		s = "[" + strings.Join(parts, ",") + "]"
	}
	return s
}

// safeName keeps the characters that are safe in a folder name everywhere.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(".-_=,", r):
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	return b.String()
}
