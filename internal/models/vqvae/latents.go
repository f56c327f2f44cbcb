package vqvae

import (
	"fmt"
	"slices"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// The VQ-VAE as the autoencoder of latent diffusion (Rombach et al. 2022):
// its continuous pre-quantization latents z_e are what a diffusion model
// learns, and a drawn latent is decoded as the VQ-VAE decodes its own, by
// moving each vector to its nearest code first (Stable Diffusion's
// VQ-regularized autoencoders put the quantizer in the decoder the same
// way), so the decoder only ever sees the inputs it was trained on.

// LoadDependency loads the VQ-VAE that dependency d names (a second-stage
// model's autoencoder).
func LoadDependency(deps models.Loader, d models.Dependency) (*VQVAE, error) {
	return models.LoadAs[*VQVAE](deps, d)
}

// LatentShape is the shape of one image's latents: D channels on a
// side x side grid.
func (m *VQVAE) LatentShape() (channels, side int) {
	return m.Net.Config.EmbedDim, m.Net.Config.LatentSide()
}

// CodeNorms returns the norm of each code, a fingerprint of the codebook
// for models built on this VQ-VAE (the same codebook, the same float32s).
func (m *VQVAE) CodeNorms() []float32 { return codeNorms(m.Net.Codebook) }

// BindCodeNorms binds the code norms a second-stage model keeps (norms, one
// per code, all zeros until bound) to this VQ-VAE, or, when they are bound
// already, checks that they are this VQ-VAE's: a model trained on one
// VQ-VAE's codes or latents is never paired with another's, whose indices
// and latents mean other shapes. The error reads "another VQ-VAE (...)".
func (m *VQVAE) BindCodeNorms(norms []float32) error {
	want := m.CodeNorms()
	if len(norms) != len(want) {
		return fmt.Errorf("another VQ-VAE (%d codes there, %d here)", len(norms), len(want))
	}
	if !slices.ContainsFunc(norms, func(v float32) bool { return v != 0 }) {
		copy(norms, want)
		return nil
	}
	for k, v := range want {
		if norms[k] != v {
			return fmt.Errorf("another VQ-VAE (code %d's norm is %g there, %g here)", k, norms[k], v)
		}
	}
	return nil
}

// EncodeLatents returns the encoder's outputs z_e for n images x (pixels in
// [0, 1]): n blocks of (D, S/4, S/4), channels first.
func (m *VQVAE) EncodeLatents(x []float32, n int) ([]float32, error) {
	s := m.Net.Config.Side
	d := s * s
	c, l := m.LatentShape()
	p := c * l * l
	if len(x) < n*d {
		return nil, fmt.Errorf("%d pixels are not %d images of %dx%d", len(x), n, s, s)
	}
	r, err := m.Net.BuildReconstruct(sample.ChunkSize)
	if err != nil {
		return nil, err
	}
	// Only z_e is read: neither the quantizer nor the decoder runs.
	prog, err := graphs.Compile(r.Bound, nil, graphs.Outputs{r.ZE})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	out := make([]float32, n*p)
	err = sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
		clear(r.X)
		copy(r.X, x[lo*d:(lo+rows)*d])
		if err := prog.Run(); err != nil {
			return err
		}
		copy(out[lo*p:(lo+rows)*p], prog.Value(r.ZE))
		return nil
	})
	return out, err
}

// NearestCodes returns the index of the nearest code of each vector of n
// latents z, laid out as EncodeLatents returns them, by the quantizer's own
// search (ops.NearestCodes): [n, S/4, S/4] row-major, what DecodeCodes
// takes.
func (m *VQVAE) NearestCodes(z []float32, n int) ([]int32, error) {
	c, l := m.LatentShape()
	p := l * l
	if len(z) != n*c*p {
		return nil, fmt.Errorf("%d values are not %d latents of %dx%dx%d", len(z), n, c, l, l)
	}
	cb := m.Net.Codebook
	codes := make([]int32, n*p)
	ops.NearestCodes(z, cb.Embed.Data, n, c, p, cb.K, codes)
	return codes, nil
}

// DecodeLatents decodes n latents z (as EncodeLatents returns them) to
// images clamped to [0, 1]: with quantize, each vector moved to its
// nearest code first, as the VQ-VAE decodes its own; without, the decoder
// takes the vectors as they are.
func (m *VQVAE) DecodeLatents(z []float32, n int, quantize bool) (sample.Images, error) {
	if quantize {
		codes, err := m.NearestCodes(z, n)
		if err != nil {
			return sample.Images{}, err
		}
		return m.DecodeCodes(codes)
	}
	c, l := m.LatentShape()
	p := c * l * l
	if len(z) != n*p {
		return sample.Images{}, fmt.Errorf("%d values are not %d latents of %dx%dx%d", len(z), n, c, l, l)
	}
	return m.decode(n, func(q []float32, lo, rows int) { copy(q, z[lo*p:(lo+rows)*p]) })
}
