package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// fakeOptimizer stores one tensor and one scalar, enough to test the .optim file.
type fakeOptimizer struct {
	moment []float32
	steps  string
}

func (f *fakeOptimizer) StateTensors(prefix string) ([]safetensors.Tensor, map[string]string) {
	return []safetensors.Tensor{{Name: prefix + ".m", Shape: []int{len(f.moment)}, Data: f.moment}}, map[string]string{prefix + ".step": f.steps}
}

func (f *fakeOptimizer) LoadStateTensors(prefix string, file *safetensors.File) error {
	t, ok := file.Lookup(prefix + ".m")
	if !ok {
		return os.ErrNotExist
	}
	copy(f.moment, t.Data)
	f.steps = file.Metadata[prefix+".step"]
	return nil
}

func params(vals ...float32) []*graphs.Param {
	ps := graphs.NewParamSet()
	a := ps.Add("layer.weight", 2, 2)
	b := ps.Add("layer.bias", 2)
	copy(a.Data, vals)
	if len(vals) > 4 {
		copy(b.Data, vals[4:])
	}
	return ps.List()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := params(1, 2, 3, 4, 5, 6)
	opt := &fakeOptimizer{moment: []float32{0.5, 0.25}, steps: "7"}
	meta := Meta{Model: "vae", Config: "model: vae\n", Version: "test", Step: 7, Epoch: 1, Batch: 3}
	path, err := Save(dir, src, []Named{{"adam", opt}}, meta, 2)
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := Resolve(filepath.Dir(dir)) // not a run folder: no checkpoints/latest there
	if err == nil {
		t.Errorf("Resolve(%s) = %s, want an error", filepath.Dir(dir), resolved)
	}
	for _, p := range []string{dir, path} {
		if got, err := Resolve(p); err != nil || got != path {
			t.Errorf("Resolve(%s) = %s, %v; want %s", p, got, err, path)
		}
	}
	dst := params()
	got, err := LoadWeights(path, "vae", dst)
	if err != nil {
		t.Fatal(err)
	}
	if got != meta {
		t.Errorf("meta %+v, want %+v", got, meta)
	}
	for i := range src {
		for j := range src[i].Data {
			if src[i].Data[j] != dst[i].Data[j] {
				t.Fatalf("%s differs after round trip", src[i].Name)
			}
		}
	}
	opt2 := &fakeOptimizer{moment: make([]float32, 2)}
	if err := LoadOptimizers(path, []Named{{"adam", opt2}}); err != nil {
		t.Fatal(err)
	}
	if opt2.moment[1] != 0.25 || opt2.steps != "7" {
		t.Errorf("optimizer state %+v", opt2)
	}
}

func TestResolveRunFolder(t *testing.T) {
	run := t.TempDir()
	path, err := Save(filepath.Join(run, "checkpoints"), params(), nil, Meta{Model: "vae", Step: 3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve(run); err != nil || got != path {
		t.Errorf("Resolve(run) = %s, %v; want %s", got, err, path)
	}
}

// TestResolveMissingLatest: a checkpoints/latest naming a file that is not
// there (a run folder committed without its newest checkpoint) is an error
// that names the newest file present and how to take it.
func TestResolveMissingLatest(t *testing.T) {
	dir := t.TempDir()
	older, err := Save(dir, params(), nil, Meta{Model: "vae", Step: 3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latest"), []byte(FileName(9)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(dir)
	if err == nil || !strings.Contains(err.Error(), FileName(9)+", which is missing") || !strings.Contains(err.Error(), "echo "+filepath.Base(older)) {
		t.Errorf("Resolve with a dangling latest: %v", err)
	}
	os.Remove(older)
	if _, err := Resolve(dir); err == nil || !strings.Contains(err.Error(), "holds no other checkpoint") {
		t.Errorf("Resolve with a dangling latest and no checkpoint: %v", err)
	}
}

func TestKeepLastK(t *testing.T) {
	dir := t.TempDir()
	for step := int64(1); step <= 5; step++ {
		if _, err := Save(dir, params(), nil, Meta{Model: "vae", Step: step}, 2); err != nil {
			t.Fatal(err)
		}
	}
	got := List(dir)
	if len(got) != 2 || filepath.Base(got[0]) != FileName(4) || filepath.Base(got[1]) != FileName(5) {
		t.Errorf("kept %v, want steps 4 and 5", got)
	}
	optims, _ := filepath.Glob(filepath.Join(dir, "*.optim.safetensors"))
	if len(optims) != 2 {
		t.Errorf("%d optimizer files kept, want 2", len(optims))
	}
}

func TestLoadErrorsLeaveParamsUntouched(t *testing.T) {
	dir := t.TempDir()
	good, err := Save(dir, params(1, 2, 3, 4, 5, 6), nil, Meta{Model: "vae", Step: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	otherShape := graphs.NewParamSet()
	otherShape.Add("layer.weight", 4)
	otherShape.Add("layer.bias", 2)
	extra := graphs.NewParamSet()
	extra.Add("layer.weight", 2, 2)
	missing := graphs.NewParamSet()
	missing.Add("layer.weight", 2, 2)
	missing.Add("layer.bias", 2)
	missing.Add("other.bias", 1)

	raw, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.safetensors")
	os.WriteFile(truncated, raw[:len(raw)-5], 0o644)
	notOurs := filepath.Join(dir, "plain.safetensors")
	safetensors.WriteFile(notOurs, []safetensors.Tensor{{Name: "layer.bias", Shape: []int{2}, Data: []float32{1, 2}}}, nil)

	cases := []struct {
		name   string
		path   string
		model  string
		params []*graphs.Param
		want   string
	}{
		{"wrong model", good, "gan", params(), "is a vae checkpoint, not gan; use --model vae"},
		{"wrong shape", good, "vae", otherShape.List(), "has shape [2 2], the configured model needs [4]"},
		{"unexpected tensor", good, "vae", extra.List(), "unexpected tensor layer.bias"},
		{"missing tensor", good, "vae", missing.List(), "missing tensor other.bias"},
		{"truncated", truncated, "vae", params(), "truncated.safetensors"},
		{"not a genmodel file", notOurs, "vae", params(), "not a genmodel checkpoint"},
		{"no such file", filepath.Join(dir, "nope.safetensors"), "vae", params(), "nope.safetensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.params {
				for i := range p.Data {
					p.Data[i] = -9
				}
			}
			_, err := LoadWeights(c.path, c.model, c.params)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			for _, p := range c.params {
				for _, v := range p.Data {
					if v != -9 {
						t.Fatalf("%s changed by a failed load", p.Name)
					}
				}
			}
		})
	}
}

// TestFailedSaveKeepsLastGood makes the second save fail (its target name is
// taken by a folder) and checks that latest still names the first, whole.
func TestFailedSaveKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	first, err := Save(dir, params(1, 2, 3, 4, 5, 6), nil, Meta{Model: "vae", Step: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, FileName(2)), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Save(dir, params(9, 9, 9, 9, 9, 9), nil, Meta{Model: "vae", Step: 2}, 1); err == nil {
		t.Fatal("save over a folder succeeded")
	}
	got, err := Resolve(dir)
	if err != nil || got != first {
		t.Fatalf("latest = %s, %v; want %s", got, err, first)
	}
	dst := params()
	if _, err := LoadWeights(got, "vae", dst); err != nil || dst[0].Data[0] != 1 {
		t.Fatalf("last good checkpoint unreadable or changed: %v %v", err, dst[0].Data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	if _, err := os.Stat(optimPath(filepath.Join(dir, FileName(2)))); !os.IsNotExist(err) {
		t.Errorf("the failed step's optimizer file is left without its weights (%v)", err)
	}
}

func TestResolveRejectsBadLatest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "latest"), []byte("../../etc/passwd\n"), 0o644)
	if _, err := Resolve(dir); err == nil {
		t.Fatal("latest pointing outside the folder accepted")
	}
}

// withAverage is params plus their averages, named as models name them.
func withAverage(vals ...float32) []*graphs.Param {
	ps := params(vals...)
	for _, p := range params(vals...) {
		for i := range p.Data {
			p.Data[i] *= 10
		}
		p.Name = EMAPrefix + p.Name
		ps = append(ps, p)
	}
	return ps
}

// TestAverageInItsOwnFile checks the layout a PyTorch user loads with
// strict=True: the weights file holds the raw weights only, the .ema file
// the averages under the same names; both come back, old single-file
// checkpoints still load, and pruning removes the .ema files too.
func TestAverageInItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	path, err := Save(dir, withAverage(1, 2, 3, 4, 5, 6), nil, Meta{Model: "ddpm", Step: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]float32{path: 1, EMAPath(path): 10} {
		f, err := safetensors.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tensors) != 2 || f.Tensors[0].Name != "layer.weight" || f.Tensors[0].Data[0] != want {
			t.Errorf("%s holds %+v, want layer.weight (first value %g) and layer.bias", file, f.Tensors, want)
		}
		if f.Metadata["model"] != "ddpm" {
			t.Errorf("%s: metadata %v", file, f.Metadata)
		}
	}
	dst := withAverage()
	if _, err := LoadWeights(path, "ddpm", dst); err != nil || dst[0].Data[0] != 1 || dst[2].Data[0] != 10 {
		t.Fatalf("load: %v; weight %g, average %g", err, dst[0].Data[0], dst[2].Data[0])
	}
	if _, err := LoadWeights(path, "ddpm", params()); err == nil || !strings.Contains(err.Error(), "keeps no weight average") {
		t.Errorf("a model without an average loaded a checkpoint with one: %v", err)
	}

	// The layout before .ema files: ema.* tensors inside the weights file.
	old := filepath.Join(t.TempDir(), "old.safetensors")
	var ts []safetensors.Tensor
	for _, p := range withAverage(1, 2, 3, 4, 5, 6) {
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
	}
	if err := safetensors.WriteFile(old, ts, Meta{Model: "ddpm", Step: 1}.Encode()); err != nil {
		t.Fatal(err)
	}
	dst = withAverage()
	if _, err := LoadWeights(old, "ddpm", dst); err != nil || dst[2].Data[0] != 10 {
		t.Fatalf("old layout: %v; average %g", err, dst[2].Data[0])
	}

	if _, err := Save(dir, withAverage(1, 2, 3, 4, 5, 6), nil, Meta{Model: "ddpm", Step: 2}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(EMAPath(path)); !os.IsNotExist(err) {
		t.Errorf("pruned step's average file kept (%v)", err)
	}
	if got := List(dir); len(got) != 1 || filepath.Base(got[0]) != FileName(2) {
		t.Errorf("List = %v, want only %s", got, FileName(2))
	}
}
