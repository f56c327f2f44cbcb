package app

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// ExportOptions are the inputs of `genmodel export`.
type ExportOptions struct {
	Model      string // optional; checked against the checkpoint
	Checkpoint string // file or run folder
	Out        string // the .safetensors file to write
	// DType stores the large tensors (LargeTensor values or more) as F16
	// or BF16 instead of F32; small ones (biases, normalizations) stay F32.
	DType string
	// Overrides change keys of the config the file carries: settings of
	// sampling (vqvae.prior, say), since the tensors must still fit.
	Overrides []config.Override
}

// LargeTensor is the size from which export --dtype stores a tensor in 16
// bits: the weight matrices and kernels, where nearly all the bytes are.
const LargeTensor = 4096

// Export writes what sampling and evaluation need of a trained model into
// one checkpoint file: no optimizer state, and for a model that keeps a
// weight average, the average in place of the raw weights, with the saved
// config's <model>.ema_decay set to 0 so the file loads as a model without
// one. A GAN's file holds its generator alone (models.SamplingOnly). The
// result is the form checkpoints/ ships; it loads with --checkpoint like any
// other, though not for training.
func Export(o ExportOptions, stdout io.Writer) error {
	if o.Out == "" {
		return fmt.Errorf("export: pass --out FILE.safetensors")
	}
	dtype := strings.ToUpper(o.DType)
	switch dtype {
	case "", "F32", "F16", "BF16":
	default:
		return fmt.Errorf("export: --dtype %s is not f32, f16 or bf16", o.DType)
	}
	t, err := loadTrained(o.Model, o.Checkpoint, nil, nil)
	if err != nil {
		return err
	}
	byName := map[string][]float32{}
	var averaged []string
	for _, p := range t.Params() {
		if name, ok := strings.CutPrefix(p.Name, checkpoint.EMAPrefix); ok {
			averaged = append(averaged, name)
			byName[name] = p.Data // the average wins over the raw weights
		} else if _, seen := byName[p.Name]; !seen {
			byName[p.Name] = p.Data
		}
	}
	overrides := slices.Clone(o.Overrides)
	if len(averaged) > 0 {
		overrides = append(overrides, config.Override{Key: t.name + ".ema_decay", Value: "0", Source: "export"})
	}
	cfg, err := config.LoadSaved(t.name, t.ck.Path+" (its saved config)", []byte(t.ck.Meta.Config), overrides)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	yml, err := cfg.YAML()
	if err != nil {
		return err
	}
	// The exported model is built from the new config, so the file holds
	// exactly its tensors: what a strict load expects.
	shipped, err := models.New(cfg, nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	meta := t.ck.Meta
	params := shipped.Params()
	if so, ok := shipped.(models.SamplingOnly); ok {
		params, meta.SamplingOnly = so.SamplingParams(), true
		// The trained model says how drawing binds its tensors (a GAN's
		// average comes with standing statistics of its own).
		state, err := t.Model.(models.SamplingOnly).SamplingState()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		clear(byName)
		for _, p := range state {
			byName[p.Name] = p.Data
		}
	}
	var tensors []safetensors.Tensor
	for _, p := range params {
		data, ok := byName[p.Name]
		if !ok || len(data) != len(p.Data) {
			return fmt.Errorf("export: %s has no tensor %s of the exported model's shape", t.ck.Path, p.Name)
		}
		t := safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: data}
		if len(data) >= LargeTensor {
			t.DType = dtype
		}
		tensors = append(tensors, t)
	}
	meta.Config = string(yml)
	md := meta.Encode()
	md["exported_from"] = t.ck.Path
	if err := safetensors.WriteFile(o.Out, tensors, md); err != nil {
		return err
	}
	st, err := os.Stat(o.Out)
	if err != nil {
		return err
	}
	what := "its weights"
	if len(averaged) > 0 {
		what = fmt.Sprintf("its averaged weights (%d tensors)", len(averaged))
	}
	fmt.Fprintf(stdout, "wrote %s: the %s of %s, %s, %.1f MB\n", o.Out, t.name, t.ck.Path, what, float64(st.Size())/1e6)
	return nil
}
