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
	// Pretrained names shipped weights to use even when the model's
	// default run folder holds a checkpoint: a file of checkpoints/ without
	// its extension (ddpm-conditional), or PretrainedOfModel for --model's.
	Pretrained string
	Seed       uint64
	Overrides  []config.Override
	// Deps maps a dependency's name (its flag --NAME) to a checkpoint.
	Deps map[string]string
	// Request holds the flags' sampling options (temperature, the reverse
	// process, guidance; for sample the class and code); the command sets
	// its kind and size.
	Request sample.Request
}

// PretrainedOfModel is Pretrained's value for the shipped weights named as
// --model (the flag --pretrained without a value).
const PretrainedOfModel = "-"

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
