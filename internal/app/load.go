package app

import (
	"fmt"

	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
)

// loadTrained rebuilds a model from a checkpoint: the architecture from the
// configuration saved inside it (plus overrides, e.g. a data.dir on this
// machine), then the weights. model may be empty; if given it must match.
func loadTrained(model, path string, overrides []config.Override) (models.Model, *config.Config, *checkpoint.Checkpoint, error) {
	if path == "" {
		return nil, nil, nil, fmt.Errorf("no checkpoint given; pass --checkpoint FILE or a run folder")
	}
	file, err := checkpoint.Resolve(path)
	if err != nil {
		return nil, nil, nil, err
	}
	ck, err := checkpoint.Read(file)
	if err != nil {
		return nil, nil, nil, err
	}
	if model != "" && model != ck.Meta.Model {
		return nil, nil, nil, fmt.Errorf("%s is a %s checkpoint, not %s; use --model %s", file, ck.Meta.Model, model, ck.Meta.Model)
	}
	if err := models.Check(ck.Meta.Model); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	cfg, err := config.LoadSaved(ck.Meta.Model, file+" (its saved config)", []byte(ck.Meta.Config), overrides)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := models.New(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := ck.LoadInto(ck.Meta.Model, m.Params()); err != nil {
		return nil, nil, nil, err
	}
	return m, cfg, ck, nil
}
