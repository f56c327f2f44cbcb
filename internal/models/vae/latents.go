package vae

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// A trained VAE as the first stage of another model: the ssvae's M1+M2
// (Kingma et al. 2014) models its latents instead of pixels.

// LoadDependency loads d, which must hold a vae.
func LoadDependency(deps models.Loader, d models.Dependency) (*VAE, error) {
	return models.LoadAs[*VAE](deps, d)
}

// LatentDim is the size of z.
func (v *VAE) LatentDim() int { return v.Net.Config.LatentDim }

// Encoder is q(z|x) compiled once for batches of up to Batch images, so
// that a model built on the VAE encodes every training step's images
// without building a graph each time.
type Encoder struct {
	Batch      int
	prog       *graphs.Program
	in         []float32
	mu, logVar *G.Node
}

// NewEncoder compiles q(z|x) for batches of up to batch images.
func (v *VAE) NewEncoder(batch int) (*Encoder, error) {
	e := &Encoder{Batch: batch}
	var b *graphs.Bound
	err := graphs.Build("vae encoder", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		var in *G.Node
		in, e.in = graphs.Input(g, "x", batch, v.Net.Config.InputDim)
		e.mu, e.logVar = v.Net.Encode(b, in)
	})
	if err != nil {
		return nil, err
	}
	if e.prog, err = graphs.Compile(b, nil, graphs.Outputs{e.mu, e.logVar}); err != nil {
		return nil, err
	}
	return e, nil
}

// Encode writes the posterior means and log-variances of the images of x
// (at most Batch) into mu and logVar, each len(x)/InputDim rows.
func (e *Encoder) Encode(x, mu, logVar []float32) error {
	d := len(e.in) / e.Batch
	rows := len(x) / d
	if rows > e.Batch {
		return fmt.Errorf("vae encoder: %d images, built for %d", rows, e.Batch)
	}
	clear(e.in)
	copy(e.in, x)
	if err := e.prog.Run(); err != nil {
		return err
	}
	zd := len(e.prog.Value(e.mu)) / e.Batch
	copy(mu, e.prog.Value(e.mu)[:rows*zd])
	copy(logVar, e.prog.Value(e.logVar)[:rows*zd])
	return nil
}

// Close releases the program.
func (e *Encoder) Close() { e.prog.Close() }

// DecodeMeans maps latent vectors (LatentDim values each) to the expected
// images of p(x|z).
func (v *VAE) DecodeMeans(z []float32) (sample.Images, error) { return decode(v.Net, z) }
