package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler: decoded prior draws.
func (v *VAE) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return prior(v.Net, n, rng)
}

// Kinds implements models.Model.
func (v *VAE) Kinds() []sample.Kind {
	return []sample.Kind{
		{Name: "prior"},
		{Name: "recon", NeedsTest: true, Grid: true},
		{Name: "interp", NeedsTest: true, Grid: true},
		{Name: "manifold", Grid: true},
	}
}

// Classes implements models.Model: the VAE is unconditional.
func (v *VAE) Classes(sample.Request) int { return 0 }

// Draw implements models.Model. recon shows N test digits over their
// reconstructions; interp decodes N points between two test digits of
// different classes; manifold decodes the 2-D latent space as a grid of
// about N images.
func (v *VAE) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	opt := sample.DefaultGridOptions()
	var imgs sample.Images
	var err error
	switch test, n := req.Test, req.N; req.Kind {
	case "prior":
		imgs, err = prior(v.Net, n, rng)
	case "recon":
		n = min(n, test.N)
		x := sample.Images{N: n, H: test.H, W: test.W, Pix: test.Pixels[:n*test.H*test.W]}
		opt.NRow = n
		imgs, err = reconstructions(v.Net, x)
	case "interp":
		// Two test digits of different classes, picked by rng.
		i := rng.IntN(test.N)
		j := rng.IntN(test.N)
		for test.Labels != nil && test.Labels[j] == test.Labels[i] {
			j = rng.IntN(test.N)
		}
		opt.NRow = n
		imgs, err = interpolation(v.Net, test.Image(i), test.Image(j), n)
	case "manifold":
		side := max(2, int(math.Round(math.Sqrt(float64(n)))))
		opt.NRow = side
		imgs, err = manifold(v.Net, side)
	default:
		err = fmt.Errorf("the vae has no %q picture", req.Kind)
	}
	return sample.Drawing{Images: imgs, Grid: opt}, err
}

// side returns the image side of a VAE over square images.
func side(m *nets.VAE) int { return int(math.Round(math.Sqrt(float64(m.Config.InputDim)))) }

// decode maps n latent vectors (n*LatentDim values) to n expected images.
func decode(m *nets.VAE, z []float32) (sample.Images, error) {
	zd := m.Config.LatentDim
	var in, out *G.Node
	var inData []float32
	var b *graphs.Bound
	err := graphs.Build("vae decoder", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		in, inData = graphs.Input(g, "z", sample.ChunkSize, zd)
		out = m.Mean(m.Decode(b, in))
	})
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{out})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	s := side(m)
	return sample.Fill(len(z)/zd, s, s, func(dst []float32, lo, rows int) error {
		clear(inData)
		copy(inData, z[lo*zd:(lo+rows)*zd])
		if err := prog.Run(); err != nil {
			return err
		}
		copy(dst, prog.Value(out))
		return nil
	})
}

// encode returns the posterior means and log-variances of n images.
func encode(m *nets.VAE, x []float32) (mu, logVar []float32, err error) {
	d, zd := m.Config.InputDim, m.Config.LatentDim
	n := len(x) / d
	e, err := (&VAE{Net: m}).NewEncoder(sample.ChunkSize)
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	mu, logVar = make([]float32, n*zd), make([]float32, n*zd)
	err = sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
		return e.Encode(x[lo*d:(lo+rows)*d], mu[lo*zd:(lo+rows)*zd], logVar[lo*zd:(lo+rows)*zd])
	})
	return mu, logVar, err
}

// prior decodes n draws from the prior N(0, I).
func prior(m *nets.VAE, n int, rng *rand.Rand) (sample.Images, error) {
	z := make([]float32, n*m.Config.LatentDim)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	return decode(m, z)
}

// reconstructions returns 2n images for a grid of n columns: the n given
// images in the first row, their reconstructions (decoded posterior means)
// in the second.
func reconstructions(m *nets.VAE, x sample.Images) (sample.Images, error) {
	mu, _, err := encode(m, x.Pix)
	if err != nil {
		return sample.Images{}, err
	}
	rec, err := decode(m, mu)
	if err != nil {
		return sample.Images{}, err
	}
	out := sample.Images{N: 2 * x.N, H: x.H, W: x.W}
	out.Pix = append(append(out.Pix, x.Pix...), rec.Pix...)
	return out, nil
}

// interpolation decodes steps points on the line between the posterior
// means of images a and b: the seed's point that a VAE's latent space is
// continuous, so every point between two digits decodes to a plausible image.
func interpolation(m *nets.VAE, a, b []float32, steps int) (sample.Images, error) {
	if steps < 2 {
		return sample.Images{}, fmt.Errorf("interpolation needs at least 2 steps, got %d", steps)
	}
	mu, _, err := encode(m, append(append([]float32(nil), a...), b...))
	if err != nil {
		return sample.Images{}, err
	}
	zd := m.Config.LatentDim
	z := make([]float32, steps*zd)
	for s := 0; s < steps; s++ {
		t := float32(s) / float32(steps-1)
		for j := 0; j < zd; j++ {
			z[s*zd+j] = (1-t)*mu[j] + t*mu[zd+j]
		}
	}
	return decode(m, z)
}

// manifold decodes an n x n grid of a 2-D latent space at the normal
// quantiles of evenly spaced probabilities (Kingma & Welling 2014, fig. 4),
// so the grid covers the prior's mass evenly. Rows run from high z2 to low.
func manifold(m *nets.VAE, n int) (sample.Images, error) {
	if m.Config.LatentDim != 2 {
		return sample.Images{}, fmt.Errorf("the manifold grid needs vae.latent_dim 2, this model has %d", m.Config.LatentDim)
	}
	if n < 2 {
		return sample.Images{}, fmt.Errorf("the manifold grid needs at least 2x2 images, got n=%d", n)
	}
	z := make([]float32, 0, 2*n*n)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			p1 := (float64(c) + 0.5) / float64(n)
			p2 := 1 - (float64(r)+0.5)/float64(n)
			z = append(z, float32(normalQuantile(p1)), float32(normalQuantile(p2)))
		}
	}
	return decode(m, z)
}

// normalQuantile is the inverse CDF of the standard normal.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }
