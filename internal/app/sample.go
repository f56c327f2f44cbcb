package app

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// SampleOptions are the inputs of `genmodel sample`.
type SampleOptions struct {
	Model      string
	Checkpoint string
	Kind       string // "" for the model's default picture
	N          int
	Out        string // grid PNG
	OutDir     string // N single PNGs instead of a grid
	Seed       uint64
	Class      int // a digit for a conditional model, -1 for none
	Code       int // an InfoGAN code of a dcgan trained with info_codes, -1 for all in turn
	Overrides  []config.Override
	Diffusion  DiffusionFlags
	Trajectory string    // diffusion: PNG of x_t along reverse chains
	Forward    string    // diffusion: PNG of q(x_t | x_0) for test digits
	Progress   io.Writer // progress bars (nil: none)
	// Temperature, when positive, scales a flow's or a GAN's latent noise:
	// N(0, T^2 I).
	Temperature float64
}

// Sample draws images from a trained model and writes a grid or singles.
func Sample(o SampleOptions, stdout io.Writer) error {
	m, cfg, ck, err := loadTrained(o.Model, o.Checkpoint, o.Overrides)
	if err != nil {
		return err
	}
	kind := o.Kind
	if kind == "" {
		kind = m.Kinds()[0]
	}
	if !slices.Contains(m.Kinds(), kind) {
		return fmt.Errorf("--kind %s: %s draws %v", kind, ck.Meta.Model, m.Kinds())
	}
	if o.N <= 0 {
		return fmt.Errorf("--n must be positive, got %d", o.N)
	}
	if o.OutDir != "" && kind != "prior" {
		return fmt.Errorf("--out-dir writes single prior samples; use --out for a %s picture", kind)
	}
	if err := applyDiffusion(m, ck.Meta.Model, o.Diffusion, o.Progress); err != nil {
		return err
	}
	if err := applyTemperature(m, ck.Meta.Model, o.Temperature); err != nil {
		return err
	}
	if o.Code >= 0 {
		cs, ok := m.(models.CodeSampler)
		if !ok {
			return fmt.Errorf("--code picks an InfoGAN code of a GAN; the %s has none", ck.Meta.Model)
		}
		if err := cs.SetCode(o.Code); err != nil {
			return fmt.Errorf("--code: %w (checkpoint %s)", err, ck.Path)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x53414d50)) // "SAMP"
	common, err := cfg.Common()
	if err != nil {
		return err
	}
	if o.Trajectory != "" || o.Forward != "" {
		if err := drawDiffusionPictures(m, o, common, rng, stdout); err != nil {
			return err
		}
	}
	needsTest := kind == "recon" || kind == "interp"
	var imgs sample.Images
	var grid sample.GridOptions
	if needsTest {
		_, test, err := loadData(common.Data)
		if err != nil {
			return err
		}
		imgs, grid, err = m.Draw(models.DrawRequest{Kind: kind, N: o.N, Class: o.Class}, test, rng)
		if err != nil {
			return err
		}
	} else if imgs, grid, err = m.Draw(models.DrawRequest{Kind: kind, N: o.N, Class: o.Class}, nil, rng); err != nil {
		return err
	}
	if o.OutDir != "" {
		if err := sample.SaveSingles(o.OutDir, imgs, grid.Lo, grid.Hi); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d images to %s\n", imgs.N, o.OutDir)
		return nil
	}
	out := o.Out
	if out == "" {
		out = fmt.Sprintf("%s-%s.png", ck.Meta.Model, kind)
	}
	if err := saveGridMkdir(out, imgs, grid); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d images, %s, from %s)\n", out, imgs.N, kind, ck.Path)
	return nil
}

// trajectoryRows and trajectoryColumns size the --trajectory and --forward
// pictures: about ten timesteps, as the seed's diagram.
const trajectoryRows, trajectoryColumns = 8, 10

// drawDiffusionPictures writes the --trajectory and --forward pictures.
func drawDiffusionPictures(m models.Model, o SampleOptions, common config.Common, rng *rand.Rand, stdout io.Writer) error {
	dm, ok := m.(*models.DDPM)
	if !ok {
		return fmt.Errorf("--trajectory and --forward picture a diffusion model's chains; the %s has none", common.Model)
	}
	if o.Trajectory != "" {
		imgs, grid, err := dm.Trajectory(trajectoryRows, trajectoryColumns, rng)
		if err != nil {
			return err
		}
		if err := saveGridMkdir(o.Trajectory, imgs, grid); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d reverse chains, x_t at %d points from noise to sample)\n", o.Trajectory, trajectoryRows, trajectoryColumns)
	}
	if o.Forward != "" {
		_, test, err := loadData(common.Data)
		if err != nil {
			return err
		}
		imgs, grid, err := dm.ForwardProcess(test, trajectoryRows, trajectoryColumns, rng)
		if err != nil {
			return err
		}
		if err := saveGridMkdir(o.Forward, imgs, grid); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (q(x_t | x_0) of %d test digits at t = 0 .. %d)\n", o.Forward, trajectoryRows, dm.Sched.T()-1)
	}
	return nil
}

// saveGridMkdir writes a grid PNG, creating its folder.
func saveGridMkdir(path string, imgs sample.Images, grid sample.GridOptions) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return sample.SaveGrid(path, imgs, grid)
}

// applyTemperature sets a flow's or a GAN's sampling temperature (0: keep
// the model's own, a flow's configured one or a GAN's 1).
func applyTemperature(m models.Model, model string, t float64) error {
	if t == 0 {
		return nil
	}
	ts, ok := m.(models.TemperatureSampler)
	if !ok {
		return fmt.Errorf("--temperature scales the latent noise of a flow or a GAN; the %s has none", model)
	}
	if err := ts.SetTemperature(t); err != nil {
		return fmt.Errorf("--temperature: %w", err)
	}
	return nil
}
