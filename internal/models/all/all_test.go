package all

import (
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
)

// TestRegistryMatchesConfigs keeps the two halves of a model's description
// together: every registered model has its configs/NAME.yaml, and every
// YAML there belongs to a registered model.
func TestRegistryMatchesConfigs(t *testing.T) {
	registered, yamls := models.Names(), config.Models()
	for _, name := range registered {
		if !slices.Contains(yamls, name) {
			t.Errorf("model %s is registered but configs/%s.yaml does not exist", name, name)
		}
	}
	for _, name := range yamls {
		if !slices.Contains(registered, name) {
			t.Errorf("configs/%s.yaml has no registered model (add its family to internal/models/all)", name)
		}
	}
}

// TestEveryModelBuildsAndDescribesItself builds each registered model from
// its defaults and checks what the commands rely on: a summary, kinds with
// distinct names, and dependencies naming registered models.
func TestEveryModelBuildsAndDescribesItself(t *testing.T) {
	for _, name := range models.Names() {
		t.Run(name, func(t *testing.T) {
			e, err := models.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if e.Summary == "" {
				t.Error("no summary")
			}
			for _, d := range e.Needs {
				if _, err := models.Lookup(d.Model); err != nil || d.Name == "" || d.Purpose == "" {
					t.Errorf("dependency %+v: %v", d, err)
				}
			}
			m := modeltest.New(t, e.Name, e.Build, nil)
			seen := map[string]bool{}
			for _, k := range m.Kinds() {
				if k.Name == "" || seen[k.Name] {
					t.Errorf("kind %q is empty or listed twice", k.Name)
				}
				seen[k.Name] = true
			}
		})
	}
	if _, err := models.Lookup("vqvae-not-yet"); err == nil {
		t.Error("an unknown model was found")
	}
}

// TestSharedDependencyFlagNamesEveryPurpose checks that a flag two models
// share (--vqvae: the ldm's autoencoder, the prior's too) says what it is
// for each of them, and that every dependency is listed once.
func TestSharedDependencyFlagNamesEveryPurpose(t *testing.T) {
	seen := map[string]models.Dependency{}
	for _, d := range models.Dependencies() {
		if _, twice := seen[d.Name]; twice {
			t.Errorf("--%s listed twice", d.Name)
		}
		seen[d.Name] = d
	}
	for _, name := range models.Names() {
		e, _ := models.Lookup(name)
		for _, d := range e.Needs {
			if !strings.Contains(seen[d.Name].Purpose, d.Purpose) {
				t.Errorf("--%s says %q, without %s's %q", d.Name, seen[d.Name].Purpose, name, d.Purpose)
			}
		}
	}
}
