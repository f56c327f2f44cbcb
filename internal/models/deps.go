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
	// Purpose says what it is for, to complete "NAME is ...".
	Purpose string
}

// Loader loads the trained model of a dependency. The app builds one from
// the flags, so that a family asks for what it needs when it needs it and
// gets a one-line error naming the flag when it is missing or holds the
// wrong model.
type Loader func(d Dependency) (Model, error)

// noDeps is the Loader of a model built without any dependencies given.
func noDeps(d Dependency) (Model, error) {
	return nil, MissingDependency(d)
}

// MissingDependency is the error of a dependency nobody gave.
func MissingDependency(d Dependency) error {
	how := "--" + d.Name + " PATH"
	if d.Key != "" {
		how += " (or --set " + d.Key + "=PATH)"
	}
	return fmt.Errorf("this needs %s, %s: a %s checkpoint (genmodel train --model %s)", how, d.Purpose, d.Model, d.Model)
}
