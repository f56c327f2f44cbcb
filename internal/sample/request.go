package sample

import (
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
)

// Request is one call for images, the single value that carries what
// `genmodel sample` and `genmodel eval` ask of a model: nothing configures
// sampling by changing the model beforehand. (The per-epoch grid of
// training is train.Sampler's, drawn the same way every epoch.)
type Request struct {
	Kind  string // a kind the model lists (see Kind); "" for its first
	N     int    // images, or for kinds with rows and columns the rows
	Class int    // a digit for a class-conditional or guided model; -1 for none
	Code  int    // an InfoGAN code of a GAN that has codes; -1 for the codes in turn
	// Temperature scales a flow's or a GAN's latent noise, N(0, T^2 I); 0
	// keeps the model's configured one.
	Temperature float64
	// Diffusion chooses a diffusion model's reverse process; its zero value
	// keeps the configured one.
	Diffusion Diffusion
	// Test holds the test images of kinds that picture them (Kind.NeedsTest).
	Test *data.Dataset
	// Progress, when set, is called with the number of steps of each long
	// loop (a reverse process) and returns the function to call after each.
	Progress func(steps int) func()
}

// Diffusion is the reverse-process part of a request; zero fields keep the
// model's configured choice (ddpm.sampler, sample_steps, eta).
type Diffusion struct {
	Sampler string   // a sampler name, or "" to pick one by Steps
	Steps   int      // reverse steps (0: the configured count)
	Eta     *float64 // DDIM noise (nil: the configured eta)
	// Guidance steers samples of Class: "classifier" (with the model's
	// guidance-classifier dependency) or "cfg", of strength Scale.
	Guidance string
	Scale    float64
}

// Given reports whether any reverse-process choice was made, so that a model
// without one can refuse it.
func (d Diffusion) Given() bool {
	return d.Sampler != "" || d.Steps != 0 || d.Eta != nil || d.Guidance != ""
}

// Kind is one picture a model draws, as `genmodel sample --kind` names it.
type Kind struct {
	Name string
	// NeedsTest says the picture shows test images (reconstructions, the
	// forward process), which the caller then loads into Request.Test.
	NeedsTest bool
	// Takes lists the request options that apply to this picture; any other
	// option set in a request is refused with a one-line error.
	Takes Options
	// Grid says the picture is laid out by the model (rows of a trajectory,
	// a latent interpolation): it cannot be written as single images.
	Grid bool
	// DefaultN is the N of a request that gives none (0: the command's
	// default), for pictures whose N counts rows of several images.
	DefaultN int
}

// Options is a set of request options a kind takes.
type Options uint8

// The request options a kind can take.
const (
	TakesClass Options = 1 << iota
	TakesCode
	TakesTemperature
	TakesDiffusion
)

// Drawing is a model's answer to a Request.
type Drawing struct {
	Images Images
	Grid   GridOptions // its layout as a grid
	// Facts describe how the images were drawn (a diffusion model's
	// sampler and steps, a flow's overflowing samples), for eval to report.
	Facts []Fact
}

// Fact is one named figure about a drawing.
type Fact struct {
	Name  string
	Value any
}

// NewRand is the generator of a request's noise: seeded by the user's seed
// on the sampling stream ("SAMP"), distinct from the training streams.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x53414d50)) }
