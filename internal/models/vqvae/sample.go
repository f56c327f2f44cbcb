package vqvae

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/sample"
)

// pairsPerRow is how many (original, reconstruction) pairs a row of a
// reconstruction grid shows.
const pairsPerRow = 5

// Samples implements train.Sampler: the epoch grid shows reconstructions,
// each of the first n/2 training images beside its reconstruction; without
// a training set, decoded draws of the prior.
func (m *VQVAE) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	if m.shown == nil || m.shown.N == 0 {
		return m.prior(n, rng)
	}
	k := max(1, min(n/2, m.shown.N))
	d := m.shown.H * m.shown.W
	return m.reconPairs(m.shown.Pixels[:k*d], k)
}

// GridOptions implements train.GridLayout: pairs side by side.
func (m *VQVAE) GridOptions() sample.GridOptions {
	opt := sample.DefaultGridOptions()
	opt.NRow = 2 * pairsPerRow
	return opt
}

// Kinds implements models.Model.
func (m *VQVAE) Kinds() []sample.Kind {
	return []sample.Kind{
		{Name: "prior", DefaultN: 100},
		{Name: "recon", NeedsTest: true, Grid: true, DefaultN: 50},
	}
}

// Classes implements models.Model: the VQ-VAE is unconditional.
func (m *VQVAE) Classes(sample.Request) int { return 0 }

// Draw implements models.Model. prior decodes N grids of codes drawn from
// the model's CodePrior; recon shows N test digits, each beside its
// reconstruction, five pairs a row.
func (m *VQVAE) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	grid := sample.DefaultGridOptions()
	var imgs sample.Images
	var err error
	switch req.Kind {
	case "prior":
		imgs, err = m.prior(req.N, rng)
	case "recon":
		test := req.Test
		n := min(req.N, test.N)
		if test.H != m.Net.Config.Side || test.W != m.Net.Config.Side {
			return sample.Drawing{}, fmt.Errorf("test images are %dx%d, the model takes %dx%d", test.H, test.W, m.Net.Config.Side, m.Net.Config.Side)
		}
		grid = m.GridOptions()
		grid.NRow = min(grid.NRow, 2*n)
		imgs, err = m.reconPairs(test.Pixels[:n*test.H*test.W], n)
	default:
		err = fmt.Errorf("the vqvae has no %q picture", req.Kind)
	}
	return sample.Drawing{Images: imgs, Grid: grid}, err
}

// prior decodes n grids of codes drawn from m.Prior.
func (m *VQVAE) prior(n int, rng *rand.Rand) (sample.Images, error) {
	l := m.Net.Config.LatentSide()
	codes, err := m.Prior.Draw(n, l, rng)
	if err != nil {
		return sample.Images{}, err
	}
	if len(codes) != n*l*l {
		return sample.Images{}, fmt.Errorf("the code prior drew %d codes, want %d grids of %dx%d", len(codes), n, l, l)
	}
	for _, c := range codes {
		if c < 0 || int(c) >= m.Net.Codebook.K {
			return sample.Images{}, fmt.Errorf("the code prior drew code %d of a codebook of %d", c, m.Net.Codebook.K)
		}
	}
	return m.DecodeCodes(codes)
}

// DecodeCodes decodes grids of codes ([N, S/4, S/4] row-major) to images,
// clamped to [0, 1].
func (m *VQVAE) DecodeCodes(codes []int32) (sample.Images, error) {
	l := m.Net.Config.LatentSide()
	p := l * l
	return m.decode(len(codes)/p, func(q []float32, lo, rows int) {
		m.Net.Codebook.Lookup(codes[lo*p:(lo+rows)*p], p, q)
	})
}

// decode runs the decoder over n latents in chunks, fill writing the
// vectors of latents lo to lo+rows into q (zeroed), and returns the images
// clamped to [0, 1].
func (m *VQVAE) decode(n int, fill func(q []float32, lo, rows int)) (sample.Images, error) {
	g, err := m.Net.BuildDecoder(sample.ChunkSize)
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(g.Bound, nil, graphs.Outputs{g.Out})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	s := m.Net.Config.Side
	return sample.Fill(n, s, s, func(dst []float32, lo, rows int) error {
		clear(g.Q)
		fill(g.Q, lo, rows)
		if err := prog.Run(); err != nil {
			return err
		}
		clamp(dst, prog.Value(g.Out))
		return nil
	})
}

// clamp copies src into dst, clamped to [0, 1].
func clamp(dst, src []float32) {
	for i := range dst {
		dst[i] = min(max(src[i], 0), 1)
	}
}

// reconstruct returns the reconstructions of n images x, clamped to [0, 1].
func (m *VQVAE) reconstruct(x []float32, n int) (sample.Images, error) {
	s := m.Net.Config.Side
	d := s * s
	r, err := m.Net.BuildReconstruct(sample.ChunkSize)
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(r.Bound, nil, graphs.Outputs{r.Out})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	return sample.Fill(n, s, s, func(dst []float32, lo, rows int) error {
		clear(r.X)
		copy(r.X, x[lo*d:(lo+rows)*d])
		if err := prog.Run(); err != nil {
			return err
		}
		clamp(dst, prog.Value(r.Out))
		return nil
	})
}

// EncodeCodes returns the codes of n images x (pixels in [0, 1]): n grids
// of S/4 x S/4 code indices, [n, S/4, S/4] row-major, what a prior over the
// codes trains on and DecodeCodes takes back.
func (m *VQVAE) EncodeCodes(x []float32, n int) ([]int32, error) {
	s, l := m.Net.Config.Side, m.Net.Config.LatentSide()
	d, p := s*s, l*l
	if len(x) < n*d {
		return nil, fmt.Errorf("%d pixels are not %d images of %dx%d", len(x), n, s, s)
	}
	r, err := m.Net.BuildReconstruct(sample.ChunkSize)
	if err != nil {
		return nil, err
	}
	// Only the codes are read: the decoder is not run.
	prog, err := graphs.Compile(r.Bound, nil, graphs.Outputs{r.Quantized})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	codes := make([]int32, n*p)
	err = sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
		clear(r.X)
		copy(r.X, x[lo*d:(lo+rows)*d])
		if err := prog.Run(); err != nil {
			return err
		}
		copy(codes[lo*p:(lo+rows)*p], r.Codes.Index)
		return nil
	})
	return codes, err
}

// reconPairs returns 2n images: each of the n images x followed by its
// reconstruction.
func (m *VQVAE) reconPairs(x []float32, n int) (sample.Images, error) {
	rec, err := m.reconstruct(x, n)
	if err != nil {
		return sample.Images{}, err
	}
	d := rec.H * rec.W
	out := sample.Images{N: 2 * n, H: rec.H, W: rec.W, Pix: make([]float32, 0, 2*n*d)}
	for i := 0; i < n; i++ {
		out.Pix = append(out.Pix, x[i*d:(i+1)*d]...)
		out.Pix = append(out.Pix, rec.Pix[i*d:(i+1)*d]...)
	}
	return out, nil
}
