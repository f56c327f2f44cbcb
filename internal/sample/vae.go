package sample

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
)

// chunk is the batch size of the small graphs that decode and encode here.
const chunk = 100

// side returns the image side of a VAE over square images.
func side(m *nets.VAE) int { return int(math.Round(math.Sqrt(float64(m.Config.InputDim)))) }

// VAEDecode maps n latent vectors (n*LatentDim values) to n expected images.
func VAEDecode(m *nets.VAE, z []float32) (Images, error) {
	zd := m.Config.LatentDim
	n := len(z) / zd
	var in, out *G.Node
	var inData []float32
	var b *graphs.Bound
	err := graphs.Build("vae decoder", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		in, inData = graphs.Input(g, "z", chunk, zd)
		out = m.Mean(m.Decode(b, in))
	})
	if err != nil {
		return Images{}, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{out})
	if err != nil {
		return Images{}, err
	}
	defer prog.Close()
	s := side(m)
	imgs := Images{N: n, H: s, W: s, Pix: make([]float32, n*m.Config.InputDim)}
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		clear(inData)
		copy(inData, z[lo*zd:hi*zd])
		if err := prog.Run(); err != nil {
			return Images{}, err
		}
		copy(imgs.Pix[lo*m.Config.InputDim:hi*m.Config.InputDim], prog.Value(out))
	}
	return imgs, nil
}

// VAEEncode returns the posterior means and log-variances of n images.
func VAEEncode(m *nets.VAE, x []float32) (mu, logVar []float32, err error) {
	d, zd := m.Config.InputDim, m.Config.LatentDim
	n := len(x) / d
	var in, muN, lvN *G.Node
	var inData []float32
	var b *graphs.Bound
	err = graphs.Build("vae encoder", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		in, inData = graphs.Input(g, "x", chunk, d)
		muN, lvN = m.Encode(b, in)
	})
	if err != nil {
		return nil, nil, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{muN, lvN})
	if err != nil {
		return nil, nil, err
	}
	defer prog.Close()
	mu, logVar = make([]float32, n*zd), make([]float32, n*zd)
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		clear(inData)
		copy(inData, x[lo*d:hi*d])
		if err := prog.Run(); err != nil {
			return nil, nil, err
		}
		copy(mu[lo*zd:hi*zd], prog.Value(muN))
		copy(logVar[lo*zd:hi*zd], prog.Value(lvN))
	}
	return mu, logVar, nil
}

// VAEPrior decodes n draws from the prior N(0, I).
func VAEPrior(m *nets.VAE, n int, rng *rand.Rand) (Images, error) {
	z := make([]float32, n*m.Config.LatentDim)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	return VAEDecode(m, z)
}

// VAEReconstructions returns 2n images for a grid of n columns: the n given
// images in the first row, their reconstructions (decoded posterior means)
// in the second.
func VAEReconstructions(m *nets.VAE, x Images) (Images, error) {
	mu, _, err := VAEEncode(m, x.Pix)
	if err != nil {
		return Images{}, err
	}
	rec, err := VAEDecode(m, mu)
	if err != nil {
		return Images{}, err
	}
	out := Images{N: 2 * x.N, H: x.H, W: x.W}
	out.Pix = append(append(out.Pix, x.Pix...), rec.Pix...)
	return out, nil
}

// VAEInterpolation decodes steps points on the line between the posterior
// means of images a and b: the seed's point that a VAE's latent space is
// continuous, so every point between two digits decodes to a plausible image.
func VAEInterpolation(m *nets.VAE, a, b []float32, steps int) (Images, error) {
	if steps < 2 {
		return Images{}, fmt.Errorf("interpolation needs at least 2 steps, got %d", steps)
	}
	mu, _, err := VAEEncode(m, append(append([]float32(nil), a...), b...))
	if err != nil {
		return Images{}, err
	}
	zd := m.Config.LatentDim
	z := make([]float32, steps*zd)
	for s := 0; s < steps; s++ {
		t := float32(s) / float32(steps-1)
		for j := 0; j < zd; j++ {
			z[s*zd+j] = (1-t)*mu[j] + t*mu[zd+j]
		}
	}
	return VAEDecode(m, z)
}

// VAEManifold decodes an n x n grid of a 2-D latent space at the normal
// quantiles of evenly spaced probabilities (Kingma & Welling 2014, fig. 4),
// so the grid covers the prior's mass evenly. Rows run from high z2 to low.
func VAEManifold(m *nets.VAE, n int) (Images, error) {
	if m.Config.LatentDim != 2 {
		return Images{}, fmt.Errorf("the manifold grid needs vae.latent_dim 2, this model has %d", m.Config.LatentDim)
	}
	if n < 2 {
		return Images{}, fmt.Errorf("the manifold grid needs at least 2x2 images, got n=%d", n)
	}
	z := make([]float32, 0, 2*n*n)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			p1 := (float64(c) + 0.5) / float64(n)
			p2 := 1 - (float64(r)+0.5)/float64(n)
			z = append(z, float32(normalQuantile(p1)), float32(normalQuantile(p2)))
		}
	}
	return VAEDecode(m, z)
}

// normalQuantile is the inverse CDF of the standard normal.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }
