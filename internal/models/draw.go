package models

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/genmodel/genmodel/internal/sample"
)

// Draw answers req with m after the checks every model shares, so that no
// family repeats them: the kind is one m lists (the first when req names
// none), N is positive, the options set are ones the kind takes, and a class
// is one m knows. Family-specific values (an InfoGAN code's range, a
// temperature's sign, a sampler's steps) are the family's to check.
func Draw(m Model, name string, req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	kind, err := Kind(m, name, req.Kind)
	if err != nil {
		return sample.Drawing{}, err
	}
	req.Kind = kind.Name
	if req.N <= 0 {
		return sample.Drawing{}, fmt.Errorf("--n must be positive, got %d", req.N)
	}
	if kind.NeedsTest && req.Test == nil {
		return sample.Drawing{}, fmt.Errorf("the %s picture needs test images", kind.Name)
	}
	refuse := func(flag, what string) error {
		return fmt.Errorf("%s %s; the %s's %s picture has none", flag, what, name, kind.Name)
	}
	switch {
	case req.Diffusion.Given() && kind.Takes&sample.TakesDiffusion == 0:
		return sample.Drawing{}, refuse("--sampler, --steps, --eta and --guidance", "choose a diffusion model's reverse process")
	case req.Temperature != 0 && kind.Takes&sample.TakesTemperature == 0:
		return sample.Drawing{}, refuse("--temperature", "scales the latent noise of a flow or a GAN")
	case req.Code >= 0 && kind.Takes&sample.TakesCode == 0:
		return sample.Drawing{}, refuse("--code", "picks an InfoGAN code of a GAN")
	}
	if req.Class >= 0 {
		if err := checkClass(m, name, kind, req); err != nil {
			return sample.Drawing{}, err
		}
	}
	return m.Draw(req, rng)
}

// checkClass is the one place a requested class is checked.
func checkClass(m Model, name string, kind sample.Kind, req sample.Request) error {
	classes := m.Classes(req)
	switch {
	case classes == 0 || kind.Takes&sample.TakesClass == 0:
		return fmt.Errorf("--class %d: the %s, as trained and asked, draws no classes", req.Class, name)
	case req.Class >= classes:
		return fmt.Errorf("--class %d: the model knows classes 0 to %d", req.Class, classes-1)
	}
	return nil
}

// Kind finds the kind of m that name asks for ("" for the default).
func Kind(m Model, model, name string) (sample.Kind, error) {
	kinds := m.Kinds()
	if len(kinds) == 0 {
		return sample.Kind{}, fmt.Errorf("the %s draws no images", model)
	}
	if name == "" {
		return kinds[0], nil
	}
	i := slices.IndexFunc(kinds, func(k sample.Kind) bool { return k.Name == name })
	if i < 0 {
		names := make([]string, len(kinds))
		for j, k := range kinds {
			names[j] = k.Name
		}
		return sample.Kind{}, fmt.Errorf("--kind %s: the %s draws %v", name, model, names)
	}
	return kinds[i], nil
}
