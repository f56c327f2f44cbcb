package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/genmodel/genmodel/internal/config"
)

// Entry describes one model: its name (as --model and configs/NAME.yaml
// spell it), a one-line summary for `genmodel models`, the trained models it
// builds on, and how to build it from a resolved configuration.
type Entry struct {
	Name    string
	Summary string
	// Needs are the dependencies Build may ask its Loader for.
	Needs []Dependency
	Build BuildFunc
}

// BuildFunc makes a model from its resolved configuration, with freshly
// initialized weights; deps loads the trained models it builds on, when it
// needs them.
type BuildFunc func(cfg *config.Config, common config.Common, deps Loader) (Model, error)

var registry = map[string]Entry{}

// Register adds a model; internal/models/all registers every family's
// entries. A second entry of one name is a programming error.
func Register(e Entry) {
	if _, dup := registry[e.Name]; dup {
		panic("models: " + e.Name + " registered twice")
	}
	registry[e.Name] = e
}

// Names lists the registered models, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the entry of the named model, or an error naming the known
// ones.
func Lookup(name string) (Entry, error) {
	e, ok := registry[name]
	if !ok {
		return Entry{}, fmt.Errorf("unknown model %q; known models: %s (see 'genmodel models')", name, strings.Join(Names(), ", "))
	}
	return e, nil
}

// New builds the model a resolved configuration names, with freshly
// initialized weights; deps (nil: none given) loads its dependencies.
func New(cfg *config.Config, deps Loader) (Model, error) {
	e, err := Lookup(cfg.Model)
	if err != nil {
		return nil, err
	}
	return e.New(cfg, deps)
}

// New builds e's model from a resolved configuration of it.
func (e Entry) New(cfg *config.Config, deps Loader) (Model, error) {
	if cfg.Model != e.Name {
		return nil, fmt.Errorf("a %s configuration cannot build the %s", cfg.Model, e.Name)
	}
	common, err := cfg.Common()
	if err != nil {
		return nil, err
	}
	if deps == nil {
		deps = Trained(nil)
	}
	return e.Build(cfg, common, deps)
}

// Summary is a model's one-line description.
func Summary(name string) string { return registry[name].Summary }

// Dependencies lists every dependency some registered model declares, by
// name, each once: the flags `sample` and `eval` offer. Models that share a
// dependency's name (ldm and vqvae-prior both take --vqvae) share its entry,
// whose Purpose then joins theirs with "; or ".
func Dependencies() []Dependency {
	var out []Dependency
	at := map[string]int{}
	for _, name := range Names() {
		for _, d := range registry[name].Needs {
			i, seen := at[d.Name]
			switch {
			case !seen:
				at[d.Name] = len(out)
				out = append(out, d)
			case !strings.Contains(out[i].Purpose, d.Purpose):
				out[i].Purpose += "; or " + d.Purpose
			}
		}
	}
	return out
}
