package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
)

// TestGuidedEvalScoresGuidedSamples evaluates a small (untrained)
// conditional ddpm with classifier-free guidance: the figures must come from
// the guided samples, class-balanced, with the class match of those same
// samples; without guidance there is no such note.
func TestGuidedEvalScoresGuidedSamples(t *testing.T) {
	set := func(k, v string) config.Override { return config.Override{Key: k, Value: v, Source: "test"} }
	ck := freshCheckpoint(t, "ddpm", set("ddpm.conditional", "true"), set("ddpm.timesteps", "10"),
		set("ddpm.sample_steps", "10"), set("ddpm.grid_steps", "5"), set("ddpm.channels", "8"),
		set("ddpm.time_embed", "16"), set("ddpm.groups", "2"))
	eval := func(guidance string, n int) (map[string]any, error) {
		var out bytes.Buffer
		o := EvalOptions{N: n, K: 3, JSON: true}
		o.Checkpoint = ck
		o.Request.Diffusion = sample.Diffusion{Steps: 3, Guidance: guidance, Scale: 2}
		if err := Eval(o, &out); err != nil {
			return nil, err
		}
		var got map[string]any
		return got, json.Unmarshal(out.Bytes(), &got)
	}
	guided, err := eval("cfg", 25)
	if err != nil {
		t.Fatal(err)
	}
	if guided["images"].(float64) != 25 || len(guided["class_match"].([]any)) != 10 {
		t.Errorf("guided eval: %v images, class_match %v", guided["images"], guided["class_match"])
	}
	if _, err := eval("cfg", 5); err == nil || !strings.Contains(err.Error(), "--n 10") {
		t.Errorf("guided eval of 5 images for 10 classes: %v", err)
	}
	plain, err := eval("", 25)
	if err != nil {
		t.Fatal(err)
	}
	if plain["fid"] == guided["fid"] {
		t.Error("the guided and unguided figures are the same: guidance did not reach them")
	}
}

// TestGuidedSampleDrawsEachClass samples a small conditional ddpm with
// classifier-free guidance and no --class: the images must be the classes
// in turn, the first two those of --class 0 alone from the same seed (the
// classes are drawn one after another from one generator), not the
// unguided null branch's.
func TestGuidedSampleDrawsEachClass(t *testing.T) {
	set := func(k, v string) config.Override { return config.Override{Key: k, Value: v, Source: "test"} }
	ck := freshCheckpoint(t, "ddpm", set("ddpm.conditional", "true"), set("ddpm.timesteps", "10"),
		set("ddpm.sample_steps", "10"), set("ddpm.grid_steps", "5"), set("ddpm.channels", "8"),
		set("ddpm.time_embed", "16"), set("ddpm.groups", "2"))
	draw := func(guidance string, class, n int) []string {
		dir := t.TempDir()
		o := SampleOptions{N: n, OutDir: dir}
		o.Checkpoint, o.Seed = ck, 4
		o.Request.Class, o.Request.Code = class, -1
		o.Request.Diffusion = sample.Diffusion{Steps: 3, Guidance: guidance, Scale: 2}
		if err := Sample(o, io.Discard); err != nil {
			t.Fatal(err)
		}
		var files []string
		for i := range n {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%05d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, string(b))
		}
		return files
	}
	all, zeros, plain := draw("cfg", -1, 20), draw("cfg", 0, 2), draw("", -1, 20)
	if all[0] != zeros[0] || all[1] != zeros[1] {
		t.Error("guided samples without --class do not start with class 0's")
	}
	if all[0] == plain[0] {
		t.Error("guided samples without --class are the unguided ones")
	}
}
