package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckpointsLoadInPyTorch trains every model for a few steps, exports
// some of the runs, and has scripts/load_in_pytorch.py load every file
// written (weights, averages, optimizer states, exports in F32, F16 and
// BF16) and every shipped checkpoint into the PyTorch module a user would
// write, with strict=True. It skips where Debian's python3-torch (`make
// pytorch`) or ../shared/bench is missing.
func TestCheckpointsLoadInPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every model briefly")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, yaml, numpy").Run(); err != nil {
		t.Skip("PyTorch is not installed (make pytorch)")
	}
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "bench", "ddpm_ref.py")); err != nil {
		t.Skip("../shared/bench is not here")
	}
	dir := t.TempDir()
	runs := []struct {
		name   string
		set    []string
		export string // "": no export; else its --dtype
	}{
		{"vae", nil, "f32"},
		{"gan", nil, ""},
		{"dcgan", nil, "f16"},
		{"dcgan", []string{"dcgan.conditional=true"}, ""},
		{"ddpm", nil, "bf16"},
		{"ddpm", []string{"ddpm.conditional=true"}, ""},
		{"noisy-classifier", nil, ""},
		{"classifier", nil, ""},
		{"realnvp", []string{"realnvp.arch=mlp", "realnvp.hidden=64"}, "f16"},
		{"realnvp", nil, ""},
		{"glow", nil, "f32"},
		{"ssvae", []string{"data.limit=1000"}, ""},
		// M1+M2 over the shipped vae's latents: a Gaussian head besides.
		{"ssvae", []string{"data.limit=1000", "ssvae.features=m1", "ssvae.hidden=[32, 16]"}, "f16"},
		{"vqvae", nil, "f16"},
		{"pixelcnn", []string{"pixelcnn.conditional=true", "pixelcnn.channels=16", "pixelcnn.layers=2", "train.sample_count=4"}, "f16"},
		// Over the shipped vqvae's codes (prior.vqvae empty).
		{"vqvae-prior", []string{"prior.channels=8", "prior.layers=2", "train.sample_count=4"}, "f32"},
		// Over the shipped vqvae's latents (ldm.vqvae empty), conditional.
		{"ldm", []string{"ldm.channels=16", "ldm.conditional=true", "train.sample_count=4"}, "f16"},
		{"ldm", []string{"ldm.channels=16", "ldm.standardize=channel", "train.sample_count=4"}, ""},
	}
	var files []string
	for i, r := range runs {
		out := filepath.Join(dir, r.name+"-"+string(rune('a'+i)))
		args := []string{"train", "--model", r.name, "--epochs", "1", "--out", out,
			"--set", "data.limit=64", "--set", "train.batch_size=32"}
		for _, s := range r.set {
			args = append(args, "--set", s)
		}
		if b, err := genmodel(args...).CombinedOutput(); err != nil {
			t.Fatalf("genmodel %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		written, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*.safetensors"))
		files = append(files, written...)
		if r.export != "" {
			exp := out + "." + r.export + ".safetensors"
			if b, err := genmodel("export", "--checkpoint", out, "--out", exp, "--dtype", r.export).CombinedOutput(); err != nil {
				t.Fatalf("export %s: %v\n%s", out, err, b)
			}
			files = append(files, exp)
		}
	}
	shipped, _ := filepath.Glob(filepath.Join("..", "..", "checkpoints", "*.safetensors"))
	files = append(files, shipped...)
	cmd := exec.Command(py, append([]string{filepath.Join("..", "..", "scripts", "load_in_pytorch.py")}, files...)...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("load_in_pytorch.py: %v\n%s", err, b)
	}
	if n := strings.Count(string(b), "\n"); n != len(files) {
		t.Fatalf("load_in_pytorch.py reported %d files of %d:\n%s", n, len(files), b)
	}
	t.Logf("%d files:\n%s", len(files), b)
}
