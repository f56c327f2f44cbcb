// Package checkpoint saves and restores a model's weights and its
// optimizers' state as safetensors files.
//
// A checkpoint is two files in a run's checkpoints/ folder:
//
//	step-00004680.safetensors        weights, named as the PyTorch state_dict
//	step-00004680.optim.safetensors  optimizer moments, named <optimizer>.<param>.exp_avg(_sq)
//
// plus a small text file `latest` naming the newest one. Every file is written
// to a temporary file, synced and renamed into place, and `latest` is moved
// only after both files are complete, so an interrupted write, a full disk or a
// crash leaves the last good checkpoint intact.
package checkpoint

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// FormatVersion is written into every checkpoint's metadata.
const FormatVersion = "1"

// Meta is the training position and provenance stored in a checkpoint's
// __metadata__.
type Meta struct {
	Model   string // registry name, e.g. "vae"
	Config  string // the resolved YAML configuration
	Version string // genmodel version that wrote it
	Step    int64  // optimizer steps taken
	Epoch   int    // epochs completed
	Batch   int    // batches done in the epoch in progress (0 at an epoch boundary)
}

func (m Meta) encode() map[string]string {
	return map[string]string{
		"model":            m.Model,
		"config":           m.Config,
		"genmodel_version": m.Version,
		"format":           FormatVersion,
		"step":             strconv.FormatInt(m.Step, 10),
		"epoch":            strconv.Itoa(m.Epoch),
		"batch":            strconv.Itoa(m.Batch),
	}
}

func decodeMeta(path string, md map[string]string) (Meta, error) {
	m := Meta{Model: md["model"], Config: md["config"], Version: md["genmodel_version"]}
	if m.Model == "" {
		return m, fmt.Errorf("%s: not a genmodel checkpoint (no model name in its metadata)", path)
	}
	var err error
	if m.Step, err = strconv.ParseInt(md["step"], 10, 64); err != nil || m.Step < 0 {
		return m, fmt.Errorf("%s: bad step %q in metadata", path, md["step"])
	}
	if m.Epoch, err = strconv.Atoi(md["epoch"]); err != nil || m.Epoch < 0 {
		return m, fmt.Errorf("%s: bad epoch %q in metadata", path, md["epoch"])
	}
	if m.Batch, err = strconv.Atoi(md["batch"]); err != nil || m.Batch < 0 {
		return m, fmt.Errorf("%s: bad batch %q in metadata", path, md["batch"])
	}
	return m, nil
}

// OptimizerState is what an optimizer contributes to the .optim file.
type OptimizerState interface {
	// StateTensors returns the optimizer's tensors and scalars, names
	// prefixed with prefix.
	StateTensors(prefix string) ([]safetensors.Tensor, map[string]string)
	// LoadStateTensors restores what StateTensors saved.
	LoadStateTensors(prefix string, f *safetensors.File) error
}

// Named pairs an optimizer with the prefix of its state (a GAN has "G" and "D").
type Named struct {
	Name      string
	Optimizer OptimizerState
}

// FileName is the base name of the checkpoint written at step.
func FileName(step int64) string { return fmt.Sprintf("step-%08d.safetensors", step) }

func optimPath(weights string) string {
	return strings.TrimSuffix(weights, ".safetensors") + ".optim.safetensors"
}

// Save writes the weights and optimizer state into dir, points dir/latest at
// them, and deletes all but the newest keep checkpoints. It returns the
// weights file's path.
func Save(dir string, params []*graphs.Param, opts []Named, meta Meta, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating checkpoint folder: %w", err)
	}
	path := filepath.Join(dir, FileName(meta.Step))
	md := meta.encode()

	var state []safetensors.Tensor
	optMeta := map[string]string{"model": meta.Model, "step": md["step"]}
	for _, o := range opts {
		ts, scalars := o.Optimizer.StateTensors(o.Name)
		state = append(state, ts...)
		for k, v := range scalars {
			optMeta[k] = v
		}
	}
	_, statErr := os.Stat(optimPath(path))
	newStep := os.IsNotExist(statErr)
	if err := safetensors.WriteFile(optimPath(path), state, optMeta); err != nil {
		return "", err
	}
	weights := make([]safetensors.Tensor, len(params))
	for i, p := range params {
		weights[i] = safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data}
	}
	if err := safetensors.WriteFile(path, weights, md); err != nil {
		if newStep {
			// A full disk fails here most often: leave no optimizer file
			// of a step whose weights were never written.
			os.Remove(optimPath(path))
		}
		return "", err
	}
	if err := atomicfile.Write(filepath.Join(dir, "latest"), func(w io.Writer) error {
		_, err := fmt.Fprintln(w, filepath.Base(path))
		return err
	}); err != nil {
		return "", err
	}
	prune(dir, keep)
	return path, nil
}

// prune removes all but the newest keep checkpoints (keep <= 0 keeps all).
// Failing to remove an old file is harmless, so errors are ignored.
func prune(dir string, keep int) {
	if keep <= 0 {
		return
	}
	steps := List(dir)
	for _, p := range steps[:max(0, len(steps)-keep)] {
		os.Remove(optimPath(p))
		os.Remove(p)
	}
}

// List returns the weight files in dir, oldest first.
func List(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "step-*.safetensors"))
	var out []string
	for _, m := range matches {
		if !strings.HasSuffix(m, ".optim.safetensors") {
			out = append(out, m)
		}
	}
	sort.Strings(out) // zero-padded step numbers sort by step
	return out
}

// Resolve turns what a user passes as --checkpoint into a weights file: the
// file itself, a run folder (its checkpoints/latest), or a checkpoints folder.
func Resolve(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if !st.IsDir() {
		return path, nil
	}
	dir := path
	if _, err := os.Stat(filepath.Join(path, "checkpoints")); err == nil {
		dir = filepath.Join(path, "checkpoints")
	}
	b, err := os.ReadFile(filepath.Join(dir, "latest"))
	if err != nil {
		return "", fmt.Errorf("%s holds no checkpoint (no checkpoints/latest); train into it first or pass a .safetensors file", path)
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("%s: latest names %q, not a checkpoint file", filepath.Join(dir, "latest"), name)
	}
	return filepath.Join(dir, name), nil
}

// Checkpoint is a weights file read into memory, not yet applied to a model.
type Checkpoint struct {
	Path string
	Meta Meta
	file *safetensors.File
}

// Read reads and validates the weights file at path.
func Read(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return fromFile(path, f)
}

// ReadBytes decodes a weights file held in memory (one embedded in the
// binary); name stands for its path in errors.
func ReadBytes(name string, b []byte) (*Checkpoint, error) {
	f, err := safetensors.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: not a safetensors file: %w", name, err)
	}
	return fromFile(name, f)
}

func fromFile(path string, f *safetensors.File) (*Checkpoint, error) {
	meta, err := decodeMeta(path, f.Metadata)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Path: path, Meta: meta, file: f}, nil
}

// LoadInto copies the weights into params after checking the model name and
// every tensor's name and shape, so a mismatch changes nothing.
func (c *Checkpoint) LoadInto(model string, params []*graphs.Param) error {
	if c.Meta.Model != model {
		return fmt.Errorf("%s is a %s checkpoint, not %s; use --model %s", c.Path, c.Meta.Model, model, c.Meta.Model)
	}
	if err := checkTensors(c.Path, c.file, params); err != nil {
		return err
	}
	for _, p := range params {
		t, _ := c.file.Lookup(p.Name)
		copy(p.Data, t.Data)
	}
	return nil
}

// LoadWeights reads the checkpoint at path into params (Read, then LoadInto).
func LoadWeights(path, model string, params []*graphs.Param) (Meta, error) {
	c, err := Read(path)
	if err != nil {
		return Meta{}, err
	}
	return c.Meta, c.LoadInto(model, params)
}

func checkTensors(path string, f *safetensors.File, params []*graphs.Param) error {
	want := map[string]bool{}
	for _, p := range params {
		want[p.Name] = true
		t, ok := f.Lookup(p.Name)
		if !ok {
			return fmt.Errorf("%s: missing tensor %s; was it written with another architecture? compare its config with --config", path, p.Name)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s: tensor %s has shape %v, the configured model needs %v; train with the checkpoint's config", path, p.Name, t.Shape, p.Shape)
		}
	}
	for _, t := range f.Tensors {
		if !want[t.Name] {
			return fmt.Errorf("%s: unexpected tensor %s; the checkpoint was written for another architecture", path, t.Name)
		}
	}
	return nil
}

// LoadOptimizers restores the optimizers' state saved beside the weights file.
func LoadOptimizers(weightsPath string, opts []Named) error {
	path := optimPath(weightsPath)
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("optimizer state: %w", err)
	}
	for _, o := range opts {
		if err := o.Optimizer.LoadStateTensors(o.Name, f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}
