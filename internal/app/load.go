package app

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/genmodel/genmodel/checkpoints"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	_ "github.com/genmodel/genmodel/internal/models/all" // registers every model
)

// shippedWeights finds the weights of a model embedded in the binary. Tests
// swap it to stand for a model whose weights do not ship, since every
// model's do.
var shippedWeights = checkpoints.Shipped

// trained is a model rebuilt from a checkpoint.
type trained struct {
	models.Model
	name string // its registry name, from the checkpoint
	cfg  *config.Config
	ck   *checkpoint.Checkpoint
	// origin says where the weights came from when the user named no
	// checkpoint ("" when --checkpoint did).
	origin string
	// deps loads the trained models it builds on, when it asks for them.
	deps *depLoader
}

// loadTrained rebuilds a model from a checkpoint: the architecture from the
// configuration saved inside it (plus overrides, e.g. a data.dir on this
// machine), then the weights. model may be empty; if given it must match.
// deps maps dependency names (the flags --NAME) to checkpoints of the
// trained models this one builds on; it loads them when the model asks.
func loadTrained(model, path string, overrides []config.Override, deps map[string]string) (*trained, error) {
	if path == "" {
		return nil, fmt.Errorf("no checkpoint given; pass --checkpoint FILE or a run folder")
	}
	file, err := checkpoint.Resolve(path)
	if err != nil {
		return nil, err
	}
	ck, err := checkpoint.Read(file)
	if err != nil {
		return nil, err
	}
	return rebuild(model, ck, overrides, deps)
}

// loadDrawn loads the model sample and eval draw from: --checkpoint when
// given; else, unless --pretrained, the latest checkpoint of the folder
// `train --model M` writes (runs/M); else the weights of M that ship in the
// binary. --pretrained=NAME picks other shipped weights (a conditional twin).
func loadDrawn(d DrawFlags) (*trained, error) {
	shipped := d.Pretrained
	if shipped == PretrainedOfModel {
		shipped = d.Model
	}
	switch {
	case d.Checkpoint != "" && d.Pretrained != "":
		return nil, fmt.Errorf("--checkpoint and --pretrained exclude each other; pass one")
	case d.Checkpoint != "":
		return loadTrained(d.Model, d.Checkpoint, d.Overrides, d.Deps)
	case d.Model == "" && shipped == "":
		return nil, fmt.Errorf("no model given; pass --model M (its latest run in %s, else its shipped weights) or --checkpoint FILE", DefaultRunDir("M"))
	}
	if d.Model != "" {
		if _, err := models.Lookup(d.Model); err != nil {
			return nil, err
		}
	}
	if shipped == "" {
		run := DefaultRunDir(d.Model)
		if file, err := checkpoint.Resolve(run); err == nil {
			t, err := loadTrained(d.Model, file, d.Overrides, d.Deps)
			if err != nil {
				return nil, err
			}
			t.origin = fmt.Sprintf("%s, the latest checkpoint of %s (--pretrained: the shipped weights)", file, run)
			return t, nil
		}
		b, ok := shippedWeights(d.Model)
		if !ok {
			return nil, fmt.Errorf("%s holds no checkpoint and no weights of %s ship in this binary; run 'genmodel train --model %s' or pass --checkpoint", run, d.Model, d.Model)
		}
		return loadShipped(d, d.Model, b)
	}
	b, ok := shippedWeights(shipped)
	if !ok {
		return nil, fmt.Errorf("no weights named %s ship in this binary (shipped: %s); train them with 'genmodel train' and drop --pretrained", shipped, strings.Join(checkpoints.Models(), ", "))
	}
	return loadShipped(d, shipped, b)
}

// loadShipped rebuilds the model of the shipped file name, whose bytes are b.
func loadShipped(d DrawFlags, name string, b []byte) (*trained, error) {
	ck, err := checkpoint.ReadBytes(checkpoints.Name(name), b)
	if err != nil {
		return nil, err
	}
	t, err := rebuild(d.Model, ck, d.Overrides, d.Deps)
	if err != nil {
		return nil, err
	}
	t.origin = "the shipped weights " + checkpoints.Name(name)
	return t, nil
}

// DefaultRunDir is the run folder `train --model M` writes without --out.
func DefaultRunDir(model string) string { return filepath.Join("runs", model) }

// rebuild makes the model a checkpoint's saved config describes and loads
// the checkpoint's weights into it.
func rebuild(model string, ck *checkpoint.Checkpoint, overrides []config.Override, deps map[string]string) (*trained, error) {
	file := ck.Path
	if model != "" && model != ck.Meta.Model {
		return nil, fmt.Errorf("%s is a %s checkpoint, not %s; use --model %s", file, ck.Meta.Model, model, ck.Meta.Model)
	}
	entry, err := models.Lookup(ck.Meta.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := checkDeps(entry, deps); err != nil {
		return nil, err
	}
	cfg, err := config.LoadSaved(ck.Meta.Model, file+" (its saved config)", []byte(ck.Meta.Config), overrides)
	if err != nil {
		return nil, err
	}
	dl := newDepLoader(cfg, deps)
	m, err := models.New(cfg, dl)
	if err != nil {
		return nil, err
	}
	params := m.Params()
	if ck.Meta.SamplingOnly {
		so, ok := m.(models.SamplingOnly)
		if !ok {
			return nil, fmt.Errorf("%s is marked sampling_only but the %s has no such form; export it again", file, ck.Meta.Model)
		}
		params = so.SamplingParams()
	}
	if err := ck.LoadInto(ck.Meta.Model, params); err != nil {
		return nil, err
	}
	return &trained{Model: m, name: ck.Meta.Model, cfg: cfg, ck: ck, deps: dl}, nil
}

// checkDeps refuses a dependency the model does not build on.
func checkDeps(e models.Entry, deps map[string]string) error {
	var given []string
	for name, path := range deps {
		if path != "" && !slices.ContainsFunc(e.Needs, func(d models.Dependency) bool { return d.Name == name }) {
			given = append(given, "--"+name)
		}
	}
	if len(given) > 0 {
		sort.Strings(given)
		return fmt.Errorf("%s: the %s builds on no such trained model", strings.Join(given, ", "), e.Name)
	}
	return nil
}

// depLoader is the one loader of dependencies: from the checkpoint the
// dependency's flag names, else its config key in cfg, else the weights of
// its model that ship in the binary (so that `--guidance classifier` works
// on a fresh clone); the checkpoint must hold the model the dependency
// expects. Each is loaded once.
type depLoader struct {
	cfg    *config.Config
	flags  map[string]string
	loaded map[string]models.Model
	// announce, when set, is told where a dependency nobody named came
	// from: its flag (--NAME) and the shipped weights' name.
	announce func(flag, origin string)
	// untold holds the origins of shipped dependencies loaded by Probe
	// and not yet announced, by name.
	untold map[string]string
}

func newDepLoader(cfg *config.Config, flags map[string]string) *depLoader {
	return &depLoader{cfg: cfg, flags: flags, loaded: map[string]models.Model{}, untold: map[string]string{}}
}

// path is where d's checkpoint is named: its flag, else its config key.
func (l *depLoader) path(d models.Dependency) (path, from string) {
	if path := l.flags[d.Name]; path != "" {
		return path, "--" + d.Name
	}
	if d.Key != "" && l.cfg != nil {
		return l.cfg.String(d.Key), d.Key
	}
	return "", ""
}

// Given implements models.Loader: whether d's flag names a checkpoint (a
// config key is a setting that may go unused).
func (l *depLoader) Given(d models.Dependency) bool { return l.flags[d.Name] != "" }

// Load implements models.Loader: Probe, then the announcement of shipped
// weights, once.
func (l *depLoader) Load(d models.Dependency) (models.Model, error) {
	m, err := l.Probe(d)
	if err != nil {
		return nil, err
	}
	if origin, ok := l.untold[d.Name]; ok {
		delete(l.untold, d.Name)
		if l.announce != nil {
			l.announce("--"+d.Name, origin)
		}
	}
	return m, nil
}

// Probe implements models.Prober: it loads d as Load does, saying nothing.
func (l *depLoader) Probe(d models.Dependency) (models.Model, error) {
	if m, ok := l.loaded[d.Name]; ok {
		return m, nil
	}
	path, from := l.path(d)
	var t *trained
	if path == "" {
		b, ok := shippedWeights(d.ShippedName())
		if !ok {
			return nil, models.MissingDependency(d)
		}
		from = "--" + d.Name + " (not given: the shipped weights)"
		ck, err := checkpoint.ReadBytes(checkpoints.Name(d.ShippedName()), b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		if t, err = rebuild("", ck, nil, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		l.untold[d.Name] = "the shipped weights " + checkpoints.Name(d.ShippedName())
	} else {
		var err error
		if t, err = loadTrained("", path, nil, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
	}
	if t.name != d.Model {
		return nil, fmt.Errorf("%s %s: a %s checkpoint, where %s is a %s", from, t.ck.Path, t.name, d.Purpose, d.Model)
	}
	l.loaded[d.Name] = t.Model
	return t.Model, nil
}
