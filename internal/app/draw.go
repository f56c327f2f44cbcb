package app

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
)

// DrawFlags are the inputs `sample` and `eval` share: the checkpoint and
// what the request to its model carries.
type DrawFlags struct {
	Model      string
	Checkpoint string
	Seed       uint64
	Overrides  []config.Override
	// Deps maps a dependency's name (its flag --NAME) to a checkpoint.
	Deps map[string]string
	// Temperature, when positive, scales a flow's or a GAN's latent noise:
	// N(0, T^2 I).
	Temperature float64
	// The reverse process of a diffusion model; zero values keep the
	// configured ones (ddpm.sampler, sample_steps, eta).
	Sampler string
	Steps   int
	Eta     float64
	EtaSet  bool
	// Guidance toward --class: "classifier" or "cfg", of strength Scale.
	Guidance string
	Scale    float64
}

// request is the sampling request these flags make, for n images of class
// (-1: none) and InfoGAN code (-1: none).
func (f DrawFlags) request(n, class, code int) sample.Request {
	req := sample.Request{N: n, Class: class, Code: code, Temperature: f.Temperature,
		Diffusion: sample.Diffusion{Sampler: f.Sampler, Steps: f.Steps, Guidance: f.Guidance, Scale: f.Scale}}
	if f.EtaSet {
		eta := f.Eta
		req.Diffusion.Eta = &eta
	}
	return req
}

// progressBar draws a bar over each long loop of a drawing on w.
func progressBar(w io.Writer) func(steps int) func() {
	return func(steps int) func() {
		pb := progressbar.NewOptions(steps,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("denoising"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("step"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		return func() { pb.Add(1) }
	}
}
