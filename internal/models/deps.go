package models

import "fmt"

// Dependency is a trained model that another model builds on: the noisy
// classifier of classifier guidance today; a prior over a VQ-VAE's codes or
// the autoencoder of latent diffusion next.
type Dependency struct {
	// Name is how users give it: the flag --NAME of sample and eval.
	Name string
	// Key, when set, is a config key of the model's own that may hold the
	// checkpoint instead, so that training (which has no such flag) and
	// the checkpoints it writes know it too; the flag wins over it.
	Key string
	// Model is the model its checkpoint must hold.
	Model string
	// Shipped names the weights in the binary it defaults to when nobody
	// names a checkpoint; empty: Model's own (those of --pretrained=Model).
	Shipped string
	// Purpose says what it is for, to complete "NAME is ...".
	Purpose string
}

// Loader loads the trained models of dependencies. The app builds one from
// the flags and config keys, so that a family asks for what it needs when it
// needs it and gets a one-line error naming the flag when it is missing or
// holds the wrong model.
type Loader interface {
	// Load returns the trained model of d, loaded once however often it
	// is asked for.
	Load(d Dependency) (Model, error)
	// Given reports whether the user named a checkpoint for d, so that a
	// model can refuse one it will not use.
	Given(d Dependency) bool
}

// Prober is a Loader that can also load a dependency quietly, without
// saying that it is in use: for a model that tries one it may not use (the
// ddpm's default guidance, which guides only where the shipped weak model
// fits it), so that nothing names it until the model loads it for real.
type Prober interface {
	Loader
	Probe(d Dependency) (Model, error)
}

// Quiet returns a Loader that loads as l's Probe does, where l can.
func Quiet(l Loader) Loader {
	if p, ok := l.(Prober); ok {
		return quiet{p}
	}
	return l
}

type quiet struct{ Prober }

func (q quiet) Load(d Dependency) (Model, error) { return q.Probe(d) }

// Trained is a Loader of models already in memory, by dependency name: for
// tests, and for programs that build models themselves.
type Trained map[string]Model

// Load implements Loader.
func (t Trained) Load(d Dependency) (Model, error) {
	if m, ok := t[d.Name]; ok {
		return m, nil
	}
	return nil, MissingDependency(d)
}

// Given implements Loader.
func (t Trained) Given(d Dependency) bool {
	_, ok := t[d.Name]
	return ok
}

// ShippedName is the name of the shipped weights d defaults to.
func (d Dependency) ShippedName() string {
	if d.Shipped != "" {
		return d.Shipped
	}
	return d.Model
}

// MissingDependency is the error of a dependency nobody gave.
func MissingDependency(d Dependency) error {
	how := "--" + d.Name + " PATH"
	if d.Key != "" {
		how += " (or --set " + d.Key + "=PATH)"
	}
	return fmt.Errorf("this needs %s, %s: a %s checkpoint (genmodel train --model %s)", how, d.Purpose, d.Model, d.Model)
}

// LoadAs loads d and returns its model as a T, the concrete type the
// dependent model builds on, or an error naming the flag when the
// checkpoint holds another model.
func LoadAs[T Model](deps Loader, d Dependency) (T, error) {
	var zero T
	m, err := deps.Load(d)
	if err != nil {
		return zero, err
	}
	t, ok := m.(T)
	if !ok {
		return zero, fmt.Errorf("--%s: %s is a %T, not a %s", d.Name, d.Purpose, m, d.Model)
	}
	return t, nil
}
