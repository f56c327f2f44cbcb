package app

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/genmodel/genmodel/internal/config"
)

// EvalOptions are the inputs of `genmodel eval`.
type EvalOptions struct {
	Model      string
	Checkpoint string
	JSON       bool
	Seed       uint64
	Overrides  []config.Override
}

// Eval scores a trained model on the test set and prints the figures, as a
// table or one JSON object.
func Eval(o EvalOptions, stdout io.Writer) error {
	m, cfg, ck, err := loadTrained(o.Model, o.Checkpoint, o.Overrides)
	if err != nil {
		return err
	}
	common, err := cfg.Common()
	if err != nil {
		return err
	}
	_, test, err := loadData(common.Data)
	if err != nil {
		return err
	}
	rep, err := m.Evaluate(test, rand.New(rand.NewPCG(o.Seed, 0x4556414c))) // "EVAL"
	if err != nil {
		return err
	}
	if o.JSON {
		obj := map[string]any{
			"model": rep.Model, "checkpoint": ck.Path, "step": ck.Meta.Step, "epoch": ck.Meta.Epoch,
			"test_images": rep.Images,
		}
		for _, x := range rep.Metrics {
			obj[x.Name] = x.Value
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(obj)
	}
	fmt.Fprintf(stdout, "%s  %s (epoch %d, step %d), %d test images\n", rep.Model, ck.Path, ck.Meta.Epoch, ck.Meta.Step, rep.Images)
	for _, x := range rep.Metrics {
		fmt.Fprintf(stdout, "  %-16s %.4f\n", x.Name, x.Value)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "  (%s)\n", n)
	}
	return nil
}
