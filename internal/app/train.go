package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/plots"
	"github.com/genmodel/genmodel/internal/runlock"
	"github.com/genmodel/genmodel/internal/train"
)

// TrainOptions are the inputs of `genmodel train`.
type TrainOptions struct {
	Model      string // may be empty when ConfigPath names one
	ConfigPath string
	Overrides  []config.Override
	OutDir     string // default runs/<model>
	Resume     bool
	Quiet      bool
	Terminal   bool // Stdout is a terminal: draw progress bars
	// StopAfterSteps simulates an interrupt after that many steps (tests).
	StopAfterSteps int64
}

// Train resolves the configuration, loads the data and trains the model,
// writing everything into the run folder.
func Train(ctx context.Context, o TrainOptions, stdout io.Writer) (*train.Result, error) {
	model, configPath, err := resolveTrainInputs(&o)
	if err != nil {
		return nil, err
	}
	load := config.Load
	if o.Resume && configPath != "" {
		load = config.LoadSavedFile // the run's config, written with its weights
	}
	cfg, err := load(model, configPath, o.Overrides)
	if err != nil {
		return nil, err
	}
	common, err := cfg.Common()
	if err != nil {
		return nil, err
	}
	yml, err := cfg.YAML()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating run folder: %w", err)
	}
	unlock, err := runlock.Lock(o.OutDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	m, err := models.New(cfg, newDepLoader(cfg, nil)) // dependencies from config keys
	if err != nil {
		return nil, err
	}
	trainSet, testSet, err := loadData(common.Data)
	if err != nil {
		return nil, err
	}
	configFile := filepath.Join(o.OutDir, "config.yaml")
	if err := atomicfile.WriteBytes(configFile, yml); err != nil {
		return nil, err
	}
	log := stdout
	if o.Quiet {
		log = nil
	}
	if log != nil && !o.Resume {
		fmt.Fprintf(log, "training %s (%d trainable parameters) on %s: %d images, %d epochs of batch %d; run folder %s\n",
			model, countParams(m), trainSet.Name, trainSet.N, common.Train.Epochs, common.Train.BatchSize, o.OutDir)
	}
	res, err := train.Run(ctx, m, trainSet, train.Options{
		Model: model, OutDir: o.OutDir, Seed: common.Seed, Train: common.Train,
		ConfigYAML: string(yml), Version: Version, Resume: o.Resume,
		Log: log, Terminal: o.Terminal, Test: testSet, StopAfterSteps: o.StopAfterSteps,
		AfterEpoch: func() error { return plots.WriteRunCurves(o.OutDir) },
	})
	if err != nil {
		return res, err
	}
	if log != nil {
		fmt.Fprintf(log, "done: %d steps, checkpoint %s\n", res.Steps, res.Checkpoint)
	}
	return res, nil
}

// resolveTrainInputs settles the model name, the config file and the run
// folder. A resumed run takes its own config.yaml as the base, so that
// `train --out RUN --resume` needs nothing else.
func resolveTrainInputs(o *TrainOptions) (model, configPath string, err error) {
	configPath = o.ConfigPath
	if o.Resume && configPath == "" && o.OutDir != "" {
		if _, err := os.Stat(filepath.Join(o.OutDir, "config.yaml")); err == nil {
			configPath = filepath.Join(o.OutDir, "config.yaml")
		}
	}
	model = o.Model
	if configPath != "" {
		fileModel, err := config.FileModel(configPath)
		if err != nil {
			return "", "", err
		}
		if model == "" {
			model = fileModel
		}
	}
	if model == "" {
		return "", "", errors.New("no model given; pass --model (see 'genmodel models') or a --config file with a model key")
	}
	if _, err := models.Lookup(model); err != nil {
		return "", "", err
	}
	if o.OutDir == "" {
		o.OutDir = DefaultRunDir(model)
	}
	if !o.Resume {
		if _, err := os.Stat(filepath.Join(o.OutDir, "checkpoints", "latest")); err == nil {
			return "", "", fmt.Errorf("%s already holds a run; continue it with --resume, or pass --out NEW_FOLDER", o.OutDir)
		}
	} else if _, err := checkpoint.Resolve(o.OutDir); err != nil {
		return "", "", fmt.Errorf("cannot resume: %w", err)
	}
	return model, configPath, nil
}

// countParams counts what the optimizers train: not buffers (running
// statistics, masks) nor averaged copies of the weights.
func countParams(m models.Model) int {
	n := 0
	for _, o := range m.Optimizers() {
		if a, ok := o.Optimizer.(interface{ Params() []*graphs.Param }); ok {
			for _, p := range a.Params() {
				n += len(p.Data)
			}
		}
	}
	return n
}
