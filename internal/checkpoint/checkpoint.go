// Package checkpoint saves and restores a model's weights and its
// optimizers' state as safetensors files.
//
// A checkpoint is two or three files in a run's checkpoints/ folder:
//
//	step-00004680.safetensors        weights, named as the PyTorch state_dict
//	step-00004680.ema.safetensors    the weight average of a model that keeps one, named alike
//	step-00004680.optim.safetensors  optimizer moments, named <optimizer>.<param>.exp_avg(_sq)
//
// plus a small text file `latest` naming the newest one, and for models that
// rank epochs by a test metric a file `best` naming the best one (BestFile).
// A model's averaged
// parameters are named "ema.<name>" (EMAPrefix); they go to the .ema file
// without the prefix, so each weights file loads with strict=True into the
// PyTorch module a user writes, as diffusers keeps unet/ and unet_ema/.
// Every file is written to a temporary file, synced and renamed into place,
// the weights file last, and `latest` is moved only after all are complete,
// so an interrupted write, a full disk or a crash leaves the last good
// checkpoint intact.
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
	// SamplingOnly marks an exported file holding only the tensors that
	// sampling reads (models.SamplingOnly).
	SamplingOnly bool
}

// Encode is m as a file's __metadata__ (Save's, and an exported file's).
func (m Meta) Encode() map[string]string {
	md := map[string]string{
		"model":            m.Model,
		"config":           m.Config,
		"genmodel_version": m.Version,
		"format":           FormatVersion,
		"step":             strconv.FormatInt(m.Step, 10),
		"epoch":            strconv.Itoa(m.Epoch),
		"batch":            strconv.Itoa(m.Batch),
	}
	if m.SamplingOnly {
		md["sampling_only"] = "true"
	}
	return md
}

func decodeMeta(path string, md map[string]string) (Meta, error) {
	m := Meta{Model: md["model"], Config: md["config"], Version: md["genmodel_version"], SamplingOnly: md["sampling_only"] == "true"}
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

// EMAPrefix begins the names of a model's averaged parameters.
const EMAPrefix = "ema."

func optimPath(weights string) string {
	return strings.TrimSuffix(weights, ".safetensors") + ".optim.safetensors"
}

// EMAPath is the file of the weight average saved beside weights.
func EMAPath(weights string) string {
	return strings.TrimSuffix(weights, ".safetensors") + ".ema.safetensors"
}

// sidecar reports whether name is a checkpoint's optimizer or average file.
func sidecar(name string) bool {
	return strings.HasSuffix(name, ".optim.safetensors") || strings.HasSuffix(name, ".ema.safetensors")
}

// Save writes the weights and optimizer state into dir, points dir/latest at
// them, and deletes all but the newest keep checkpoints. It returns the
// weights file's path.
func Save(dir string, params []*graphs.Param, opts []Named, meta Meta, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating checkpoint folder: %w", err)
	}
	path := filepath.Join(dir, FileName(meta.Step))
	md := meta.Encode()

	var state []safetensors.Tensor
	optMeta := map[string]string{"model": meta.Model, "step": md["step"]}
	for _, o := range opts {
		ts, scalars := o.Optimizer.StateTensors(o.Name)
		state = append(state, ts...)
		for k, v := range scalars {
			optMeta[k] = v
		}
	}
	var weights, averaged []safetensors.Tensor
	for _, p := range params {
		if name, ok := strings.CutPrefix(p.Name, EMAPrefix); ok {
			averaged = append(averaged, safetensors.Tensor{Name: name, Shape: p.Shape, Data: p.Data})
		} else {
			weights = append(weights, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
		}
	}
	// The weights file is written last: a step exists once it does. A
	// failure before leaves nothing new of the step (a full disk fails on
	// the largest file most often), and a rewrite of an existing step
	// keeps its files.
	st, statErr := os.Stat(path)
	newStep := statErr != nil || !st.Mode().IsRegular()
	fail := func(err error) (string, error) {
		if newStep {
			os.Remove(optimPath(path))
			os.Remove(EMAPath(path))
		}
		return "", err
	}
	if err := safetensors.WriteFile(optimPath(path), state, optMeta); err != nil {
		return fail(err)
	}
	if averaged != nil {
		if err := safetensors.WriteFile(EMAPath(path), averaged, md); err != nil {
			return fail(err)
		}
	}
	if err := safetensors.WriteFile(path, weights, md); err != nil {
		return fail(err)
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

// prune removes all but the newest keep checkpoints (keep <= 0 keeps all),
// and never the one BestFile names. Failing to remove an old file is
// harmless, so errors are ignored.
func prune(dir string, keep int) {
	if keep <= 0 {
		return
	}
	best, _ := ReadBest(dir)
	steps := List(dir)
	for _, p := range steps[:max(0, len(steps)-keep)] {
		if filepath.Base(p) == best.File {
			continue
		}
		os.Remove(optimPath(p))
		os.Remove(EMAPath(p))
		os.Remove(p)
	}
}

// List returns the weight files in dir, oldest first.
func List(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "step-*.safetensors"))
	var out []string
	for _, m := range matches {
		if !sidecar(m) {
			out = append(out, m)
		}
	}
	sort.Strings(out) // zero-padded step numbers sort by step
	return out
}

// Resolve turns what a user passes as --checkpoint into a weights file: the
// file itself, a run folder (its checkpoints/latest), a checkpoints folder,
// or the pointer files in one (checkpoints/latest, checkpoints/best).
func Resolve(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if !st.IsDir() {
		switch filepath.Base(path) {
		case BestFile:
			b, err := ReadBest(filepath.Dir(path))
			if err != nil {
				return "", err
			}
			return filepath.Join(filepath.Dir(path), b.File), nil
		case "latest":
			return Resolve(filepath.Dir(path))
		}
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
	file := filepath.Join(dir, name)
	if _, err := os.Stat(file); err != nil {
		// A folder copied or committed without its newest file (a clone of
		// a run whose latest was not added with it): say which one is
		// there to take instead, rather than fail on the read.
		latest := filepath.Join(dir, "latest")
		if have := List(dir); len(have) > 0 {
			newest := filepath.Base(have[len(have)-1])
			return "", fmt.Errorf("%s names %s, which is missing; the newest checkpoint there is %s: run 'echo %s > %s' to continue from it", latest, name, newest, newest, latest)
		}
		return "", fmt.Errorf("%s names %s, which is missing, and the folder holds no other checkpoint", latest, name)
	}
	return file, nil
}

// Checkpoint is a weights file, and the average beside it if there is one,
// read into memory, not yet applied to a model.
type Checkpoint struct {
	Path string
	Meta Meta
	file *safetensors.File
	ema  *safetensors.File // nil: none beside the weights
}

// Read reads and validates the weights file at path and its .ema file when
// there is one.
func Read(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := fromFile(path, f)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(EMAPath(path)); err == nil {
		if c.ema, err = safetensors.ReadFile(EMAPath(path)); err != nil {
			return nil, err
		}
	}
	return c, nil
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
	var plain, averaged []*graphs.Param
	for _, p := range params {
		if strings.HasPrefix(p.Name, EMAPrefix) {
			averaged = append(averaged, p)
		} else {
			plain = append(plain, p)
		}
	}
	if err := checkTensors(c.Path, c.file, c.ema, plain, averaged); err != nil {
		return err
	}
	for _, p := range params {
		copy(p.Data, c.lookup(p.Name).Data)
	}
	return nil
}

// lookup finds a parameter's tensor: an averaged one in the .ema file, or
// (checkpoints written before the .ema files) in the weights file under its
// full name.
func (c *Checkpoint) lookup(name string) *safetensors.Tensor {
	if short, ok := strings.CutPrefix(name, EMAPrefix); ok && c.ema != nil {
		t, _ := c.ema.Lookup(short)
		return t
	}
	t, _ := c.file.Lookup(name)
	return t
}

// LoadWeights reads the checkpoint at path into params (Read, then LoadInto).
func LoadWeights(path, model string, params []*graphs.Param) (Meta, error) {
	c, err := Read(path)
	if err != nil {
		return Meta{}, err
	}
	return c.Meta, c.LoadInto(model, params)
}

// checkTensors checks that the files hold exactly the model's tensors in
// their shapes: the plain ones in f; the averaged ones in ema without their
// prefix, or in f with it when there is no ema file (the older layout).
func checkTensors(path string, f, ema *safetensors.File, plain, averaged []*graphs.Param) error {
	if ema == nil {
		return checkFile(path, f, append(plain, averaged...), "")
	}
	if len(averaged) == 0 {
		return fmt.Errorf("%s: the model keeps no weight average; remove %s or train with the checkpoint's config", path, EMAPath(path))
	}
	if err := checkFile(path, f, plain, ""); err != nil {
		return err
	}
	return checkFile(EMAPath(path), ema, averaged, EMAPrefix)
}

// checkFile checks one file against params, whose names carry prefix where
// the file's do not.
func checkFile(path string, f *safetensors.File, params []*graphs.Param, prefix string) error {
	want := map[string]bool{}
	for _, p := range params {
		name := strings.TrimPrefix(p.Name, prefix)
		want[name] = true
		t, ok := f.Lookup(name)
		if !ok {
			return fmt.Errorf("%s: missing tensor %s; was it written with another architecture? compare its config with --config", path, name)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s: tensor %s has shape %v, the configured model needs %v; train with the checkpoint's config", path, name, t.Shape, p.Shape)
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
