package app

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/safetensors"
	"github.com/genmodel/genmodel/internal/sample"
)

// TestExport checks the shipped form of a checkpoint: the averaged weights
// under the raw weights' names for a ddpm, the weights alone for a model
// without an average, a config that rebuilds a model taking exactly those
// tensors, and no optimizer file.
func TestExport(t *testing.T) {
	base := t.TempDir()
	ddpmRun, dcganRun := filepath.Join(base, "ddpm"), filepath.Join(base, "dcgan")
	if _, err := Train(context.Background(), smallRunOf("ddpm", ddpmRun, 128, 1, smallUNet...), io.Discard); err != nil {
		t.Fatal(err)
	}
	smallDCGAN := config.Override{Key: "dcgan.base_channels", Value: "4", Source: "test"}
	if _, err := Train(context.Background(), smallRunOf("dcgan", dcganRun, 128, 1, smallDCGAN), io.Discard); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		model, run string
		averaged   bool
	}{
		{"ddpm", ddpmRun, true},
		{"vae", freshCheckpoint(t, "vae"), false},
		{"dcgan", dcganRun, true}, // the generator alone
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			out := filepath.Join(base, c.model+".safetensors")
			if err := Export(ExportOptions{Checkpoint: c.run, Out: out}, io.Discard); err != nil {
				t.Fatal(err)
			}
			orig, err := loadTrained("", c.run, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]float32{}
			if so, ok := orig.Model.(models.SamplingOnly); ok {
				state, err := so.SamplingState()
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range state {
					want[p.Name] = p.Data
				}
			} else {
				for _, p := range orig.Params() {
					name, avg := strings.CutPrefix(p.Name, checkpoint.EMAPrefix)
					if avg || !c.averaged {
						want[name] = p.Data
					}
				}
			}
			f, err := safetensors.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(want) {
				t.Fatalf("%d tensors exported, want %d", len(f.Tensors), len(want))
			}
			for _, tn := range f.Tensors {
				if !slices.Equal(tn.Data, want[tn.Name]) {
					t.Fatalf("tensor %s differs from the checkpoint's %s", tn.Name, map[bool]string{true: "average", false: "weights"}[c.averaged])
				}
			}
			shipped, err := loadTrained(c.model, out, nil, nil)
			if err != nil {
				t.Fatalf("the exported file does not load: %v", err)
			}
			if c.averaged && shipped.cfg.Float(c.model+".ema_decay") != 0 {
				t.Error("the exported config still keeps an average")
			}
			// What matters to a user: the same noise draws the same images.
			draw := func(m *trained) []float32 {
				d, err := models.Draw(m, m.name, sample.Request{N: 3, Class: -1, Code: -1}, sample.NewRand(5))
				if err != nil {
					t.Fatal(err)
				}
				return d.Images.Pix
			}
			if !slices.Equal(draw(orig), draw(shipped)) {
				t.Error("the exported model draws other images")
			}
			if matches, _ := filepath.Glob(filepath.Join(base, c.model+"*optim*")); len(matches) > 0 {
				t.Errorf("optimizer state exported: %v", matches)
			}
		})
	}
	t.Run("f16", func(t *testing.T) {
		run, out := freshCheckpoint(t, "vae"), filepath.Join(base, "vae16.safetensors")
		if err := Export(ExportOptions{Checkpoint: run, Out: out, DType: "f16"}, io.Discard); err != nil {
			t.Fatal(err)
		}
		orig, err := loadTrained("", run, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range orig.Params() {
			tn := f.Tensors[i]
			wantType := "F32"
			if len(p.Data) >= LargeTensor {
				wantType = "F16"
			}
			if tn.Name != p.Name || tn.DType != wantType {
				t.Fatalf("tensor %d: %s in %s, want %s in %s", i, tn.Name, tn.DType, p.Name, wantType)
			}
			for j, v := range p.Data {
				// Half precision keeps 11 significant bits.
				if d := math.Abs(float64(tn.Data[j] - v)); d > math.Abs(float64(v))/2048+1e-7 {
					t.Fatalf("%s[%d] = %g in %s, was %g", tn.Name, j, tn.Data[j], tn.DType, v)
				}
			}
		}
		if _, err := loadTrained("vae", out, nil, nil); err != nil {
			t.Fatalf("the F16 file does not load: %v", err)
		}
	})
	t.Run("set", func(t *testing.T) {
		run, out := freshCheckpoint(t, "vae"), filepath.Join(base, "vae-set.safetensors")
		set := func(k, v string) []config.Override { return []config.Override{{Key: k, Value: v, Source: "--set"}} }
		if err := Export(ExportOptions{Checkpoint: run, Out: out, Overrides: set("vae.kl_warmup_steps", "7")}, io.Discard); err != nil {
			t.Fatal(err)
		}
		m, err := loadTrained("vae", out, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.cfg.Int("vae.kl_warmup_steps"); got != 7 {
			t.Errorf("the exported config has vae.kl_warmup_steps %d, want the --set 7", got)
		}
		err = Export(ExportOptions{Checkpoint: run, Out: filepath.Join(base, "vae-wide.safetensors"), Overrides: set("vae.latent_dim", "3")}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "shape") {
			t.Errorf("--set of a key that changes the tensors: %v", err)
		}
	})
	if err := Export(ExportOptions{Checkpoint: ddpmRun, Out: filepath.Join(base, "x.safetensors"), DType: "f8"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--dtype") {
		t.Errorf("export --dtype f8: %v", err)
	}
	if err := Export(ExportOptions{Checkpoint: ddpmRun}, io.Discard); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("export without --out: %v", err)
	}
	if err := Export(ExportOptions{Checkpoint: ddpmRun, Model: "vae", Out: filepath.Join(base, "x.safetensors")}, io.Discard); err == nil || !strings.Contains(err.Error(), "not vae") {
		t.Errorf("export of a ddpm as a vae: %v", err)
	}
}
