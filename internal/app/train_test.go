package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/runlock"
	"github.com/genmodel/genmodel/internal/safetensors"
	"github.com/genmodel/genmodel/internal/train"
)

// smallRun is a few seconds of the default VAE on the first images of the
// real MNIST training set.
func smallRun(out string, limit, epochs int, extra ...config.Override) TrainOptions {
	return smallRunOf("vae", out, limit, epochs, extra...)
}

func smallRunOf(model, out string, limit, epochs int, extra ...config.Override) TrainOptions {
	o := TrainOptions{Model: model, OutDir: out, Quiet: true, Overrides: []config.Override{
		{Key: "data.limit", Value: strconv.Itoa(limit), Source: "test"},
		{Key: "train.epochs", Value: strconv.Itoa(epochs), Source: "test"},
		{Key: "train.sample_count", Value: "16", Source: "test"},
		{Key: "eval.batch_size", Value: "1000", Source: "test"},
	}}
	o.Overrides = append(o.Overrides, extra...)
	return o
}

// smallUNet shrinks the ddpm's network and its epoch grids for tests.
var smallUNet = []config.Override{
	{Key: "ddpm.channels", Value: "8", Source: "test"}, {Key: "ddpm.time_embed", Value: "16", Source: "test"},
	{Key: "ddpm.groups", Value: "2", Source: "test"}, {Key: "ddpm.grid_steps", Value: "3", Source: "test"},
}

func readWeights(t *testing.T, path string) *safetensors.File {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func sameTensors(t *testing.T, what string, a, b *safetensors.File) {
	t.Helper()
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%s: %d tensors vs %d", what, len(a.Tensors), len(b.Tensors))
	}
	for i := range a.Tensors {
		x, y := a.Tensors[i], b.Tensors[i]
		if x.Name != y.Name || len(x.Data) != len(y.Data) {
			t.Fatalf("%s: tensor %d is %s vs %s", what, i, x.Name, y.Name)
		}
		for j := range x.Data {
			if x.Data[j] != y.Data[j] {
				t.Fatalf("%s: %s[%d] = %v vs %v: not bit-identical", what, x.Name, j, x.Data[j], y.Data[j])
			}
		}
	}
}

func TestTrainLossFallsOnRealMNIST(t *testing.T) {
	out := t.TempDir()
	res, err := Train(context.Background(), smallRun(out, 2560, 3), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 3*20 {
		t.Errorf("%d steps, want 60", res.Steps)
	}
	var epochs []map[string]float64
	f, err := os.Open(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		if rec["kind"] == "epoch" {
			epochs = append(epochs, map[string]float64{"loss": rec["loss"].(float64), "test_loss": rec["test_loss"].(float64)})
		}
	}
	if len(epochs) != 3 {
		t.Fatalf("%d epoch records, want 3", len(epochs))
	}
	first, last := epochs[0], epochs[2]
	if !(last["loss"] < 0.9*first["loss"]) || !(last["test_loss"] < first["test_loss"]) {
		t.Errorf("loss did not fall: first epoch %v, last %v", first, last)
	}
	for _, p := range []string{"config.yaml", "samples/epoch-001.png", "samples/epoch-003.png", "checkpoints/latest", "plots/losses.png"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("run folder lacks %s: %v", p, err)
		}
	}
}

// TestResumeIsBitIdentical stops runs at several points (mid-epoch, at an
// epoch boundary) and checks that resuming ends with exactly the weights and
// optimizer state of the run that never stopped, for each kind of model.
func TestResumeIsBitIdentical(t *testing.T) {
	cases := []struct {
		model string
		limit int // 8 batches per epoch
		extra []config.Override
	}{
		{"vae", 1024, nil},
		{"gan", 512, nil},
		{"gan", 512, []config.Override{{Key: "gan.spectral_norm", Value: "true", Source: "test"}, {Key: "gan.conditional", Value: "true", Source: "test"},
			{Key: "gan.instance_noise", Value: "0.1", Source: "test"}, {Key: "gan.n_critic", Value: "2", Source: "test"},
			{Key: "gan.ema_decay", Value: "0.99", Source: "test"}}},
		{"dcgan", 512, []config.Override{{Key: "dcgan.base_channels", Value: "4", Source: "test"}, {Key: "dcgan.spectral_norm", Value: "true", Source: "test"},
			{Key: "dcgan.conditional", Value: "true", Source: "test"}, {Key: "dcgan.loss", Value: "hinge", Source: "test"}}},
		{"ddpm", 512, smallUNet},
		{"ddpm", 512, slices.Concat(smallUNet, []config.Override{{Key: "train.warmup_steps", Value: "10", Source: "test"},
			{Key: "ddpm.prediction", Value: "v", Source: "test"}, {Key: "ddpm.loss_weighting", Value: "min_snr", Source: "test"}})},
		{"realnvp", 512, []config.Override{{Key: "realnvp.hidden", Value: "32", Source: "test"}, {Key: "realnvp.layers", Value: "2", Source: "test"},
			{Key: "train.batch_size", Value: "64", Source: "test"}}},
		{"glow", 512, []config.Override{{Key: "glow.steps", Value: "1", Source: "test"}, {Key: "glow.hidden", Value: "8", Source: "test"}}},
		// The ActNorms' initialized flags travel in the checkpoint: a
		// resumed run must not initialize them again.
		{"realnvp", 512, []config.Override{{Key: "realnvp.arch", Value: "multiscale", Source: "test"}, {Key: "realnvp.channels", Value: "4", Source: "test"},
			{Key: "realnvp.blocks", Value: "1", Source: "test"}, {Key: "train.batch_size", Value: "64", Source: "test"}}},
		// 100 of the 900 images labelled, 800 unlabelled: 8 batches of 100.
		{"ssvae", 900, []config.Override{{Key: "ssvae.hidden", Value: "[32]", Source: "test"}, {Key: "ssvae.latent_dim", Value: "8", Source: "test"},
			{Key: "ssvae.labelled_batch", Value: "20", Source: "test"}}},
		// M1+M2 over the shipped vae's latents: z1 is drawn from the
		// step's generator.
		{"ssvae", 900, []config.Override{{Key: "ssvae.hidden", Value: "[32]", Source: "test"}, {Key: "ssvae.latent_dim", Value: "8", Source: "test"},
			{Key: "ssvae.labelled_batch", Value: "20", Source: "test"}, {Key: "ssvae.features", Value: "m1", Source: "test"}}},
		// The codebook's averages and dead-code counters travel in the
		// checkpoint; restarts (every 3 unpicked steps) draw from the
		// step's generator.
		{"vqvae", 512, []config.Override{{Key: "vqvae.channels", Value: "8", Source: "test"}, {Key: "vqvae.res_channels", Value: "4", Source: "test"},
			{Key: "vqvae.res_blocks", Value: "1", Source: "test"}, {Key: "vqvae.dead_after", Value: "3", Source: "test"}}},
		// Conditional: the labels reach the step; the dynamic binarization
		// draws from the step's generator.
		{"pixelcnn", 512, []config.Override{{Key: "pixelcnn.channels", Value: "8", Source: "test"}, {Key: "pixelcnn.layers", Value: "2", Source: "test"},
			{Key: "pixelcnn.head", Value: "8", Source: "test"}, {Key: "pixelcnn.conditional", Value: "true", Source: "test"}}},
	}
	for i, c := range cases {
		t.Run(c.model+strconv.Itoa(i), func(t *testing.T) {
			testResume(t, c.model, c.limit, c.extra)
		})
	}
	// The prior over the codes of a VQ-VAE that its config key names: the
	// code norms it binds to travel in the checkpoint.
	t.Run("vqvae-prior and ldm", func(t *testing.T) {
		set := func(k, v string) config.Override { return config.Override{Key: k, Value: v, Source: "test"} }
		ae := freshCheckpoint(t, "vqvae", set("vqvae.channels", "8"), set("vqvae.res_channels", "4"), set("vqvae.res_blocks", "1"),
			set("vqvae.embedding_dim", "4"), set("vqvae.codebook_size", "16"))
		testResume(t, "vqvae-prior", 512, []config.Override{set("prior.vqvae", ae), set("prior.codebook_size", "16"),
			set("prior.channels", "8"), set("prior.layers", "2"), set("prior.head", "8")})
		// Latent diffusion over the same VQ-VAE's latents, conditional:
		// the latent scale and code norms travel in the checkpoint, the
		// average in its own file.
		testResume(t, "ldm", 512, []config.Override{set("ldm.vqvae", ae), set("ldm.latent_channels", "4"), set("ldm.codebook_size", "16"),
			set("ldm.channels", "8"), set("ldm.time_embed", "16"), set("ldm.groups", "2"), set("ldm.timesteps", "50"),
			set("ldm.grid_steps", "2"), set("ldm.sample_steps", "2"), set("ldm.conditional", "true"), set("train.warmup_steps", "5")})
	})
}

func testResume(t *testing.T, model string, limit int, extra []config.Override) {
	const epochs = 2
	base := t.TempDir()
	whole := filepath.Join(base, "whole")
	ref, err := Train(context.Background(), smallRunOf(model, whole, limit, epochs, extra...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	refW := readWeights(t, ref.Checkpoint)
	refO := readWeights(t, strings.TrimSuffix(ref.Checkpoint, ".safetensors")+".optim.safetensors")
	_, noAverage := os.Stat(checkpoint.EMAPath(ref.Checkpoint))
	for _, stop := range []int64{3, 8, 13} {
		t.Run("stop at step "+strconv.Itoa(int(stop)), func(t *testing.T) {
			out := filepath.Join(base, "stop"+strconv.Itoa(int(stop)))
			o := smallRunOf(model, out, limit, epochs, extra...)
			o.StopAfterSteps = stop
			if _, err := Train(context.Background(), o, io.Discard); !errors.Is(err, train.ErrInterrupted) {
				t.Fatalf("interrupted run returned %v, want ErrInterrupted", err)
			}
			o.StopAfterSteps = 0
			o.Resume = true
			o.Overrides = nil // the run's own config.yaml holds them
			res, err := Train(context.Background(), o, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != ref.Steps {
				t.Fatalf("resumed run ended at step %d, want %d", res.Steps, ref.Steps)
			}
			sameTensors(t, "weights", refW, readWeights(t, res.Checkpoint))
			sameTensors(t, "optimizer", refO, readWeights(t, strings.TrimSuffix(res.Checkpoint, ".safetensors")+".optim.safetensors"))
			if noAverage == nil {
				sameTensors(t, "average", readWeights(t, checkpoint.EMAPath(ref.Checkpoint)), readWeights(t, checkpoint.EMAPath(res.Checkpoint)))
			}
		})
	}
}

// TestConfigFileReproducesRun trains again from a run's config.yaml alone.
func TestConfigFileReproducesRun(t *testing.T) {
	base := t.TempDir()
	first := filepath.Join(base, "first")
	a, err := Train(context.Background(), smallRun(first, 512, 1,
		config.Override{Key: "vae.latent_dim", Value: "8", Source: "test"},
		config.Override{Key: "seed", Value: "42", Source: "test"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), TrainOptions{ConfigPath: filepath.Join(first, "config.yaml"), OutDir: filepath.Join(base, "second"), Quiet: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, "weights", readWeights(t, a.Checkpoint), readWeights(t, b.Checkpoint))
}

func TestTrainRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if _, err := Train(context.Background(), smallRun(existing, 256, 1), io.Discard); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts TrainOptions
		want string
	}{
		{"unknown model", TrainOptions{Model: "vea", OutDir: filepath.Join(dir, "a")}, `unknown model "vea"`},
		{"no model", TrainOptions{OutDir: filepath.Join(dir, "b")}, "no model given"},
		{"bad key", TrainOptions{Model: "vae", OutDir: filepath.Join(dir, "c"), Overrides: []config.Override{{Key: "vae.latent", Value: "2", Source: "--set vae.latent"}}}, "--set vae.latent: unknown key vae.latent"},
		{"existing run", smallRun(existing, 256, 1), "already holds a run; continue it with --resume"},
		{"resume nothing", TrainOptions{Model: "vae", OutDir: filepath.Join(dir, "d"), Resume: true}, "cannot resume"},
		{"missing data dir", TrainOptions{Model: "vae", OutDir: filepath.Join(dir, "e"), Overrides: []config.Override{{Key: "data.dir", Value: filepath.Join(dir, "nowhere"), Source: "--set data.dir"}}}, "set data.dir"},
		{"batch larger than data", smallRun(filepath.Join(dir, "f"), 10, 1), "fewer than one batch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Quiet = true
			_, err := Train(context.Background(), c.opts, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestTrainLocksItsRunFolder holds a run folder's lock as a running train
// does and checks that a second train on it is refused, naming the folder,
// while another folder trains.
func TestTrainLocksItsRunFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "busy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := runlock.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := smallRun(dir, 256, 1)
	o.Quiet = true
	_, err = Train(context.Background(), o, io.Discard)
	if runtime.GOOS != "windows" && (err == nil || !strings.Contains(err.Error(), dir+" is in use by another genmodel train")) {
		t.Errorf("a second train on a locked folder: %v", err)
	}
	unlock()
	if _, err := Train(context.Background(), o, io.Discard); err != nil {
		t.Errorf("after the lock is released: %v", err)
	}
}
