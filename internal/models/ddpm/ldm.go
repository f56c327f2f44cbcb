package ddpm

import (
	"fmt"
	"math"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/vqvae"
)

// Latent diffusion (Rombach et al. 2022), the model ldm: the same diffusion
// (schedule, prediction, loss weighting, samplers, classifier-free
// guidance) over a trained VQ-VAE's continuous latents z_e instead of
// pixels. A 28x28 digit becomes a 16x7x7 latent, scaled to unit variance
// over the training set as Stable Diffusion scales its latents (a factor
// 1/std, no centring; or, with ldm.standardize channel, each channel
// centred and scaled by its own mean and std, since the VQ-VAE's channels
// differ in spread several-fold), and zero-padded to 8x8 because UNet-S halves its
// grid twice; the pad is data like any other, always zero, which the
// network learns at once, and is cropped before decoding. A drawn latent
// is decoded by the VQ-VAE, each vector moved to its nearest code first.
// The convolutions run on 8x8 grids instead of 28x28, so a training step
// is several times cheaper than in pixel space.
//
// The VQ-VAE is a dependency (the shipped one unless ldm.vqvae or --vqvae
// names another). The checkpoint keeps the norms of its codes and the
// latent scale, so that an ldm is never decoded by another VQ-VAE, whose
// latents mean other shapes.

// LatentAutoencoderDependency is the VQ-VAE whose latents an ldm diffuses.
var LatentAutoencoderDependency = models.Dependency{
	Name:    "vqvae",
	Key:     "ldm.vqvae",
	Model:   "vqvae",
	Purpose: "the VQ-VAE whose latents the ldm diffuses",
}

// ldmSection is the `ldm:` section of the configuration: the diffusion's
// keys, as in the ddpm's section, and the latents'.
type ldmSection struct {
	section        `mapstructure:",squash"`
	VQVAE          string `mapstructure:"vqvae"` // read by the dependency loader
	LatentChannels int    `mapstructure:"latent_channels"`
	CodebookSize   int    `mapstructure:"codebook_size"`
	Quantize       bool   `mapstructure:"quantize"`
	Standardize    string `mapstructure:"standardize"`
}

// latentSpace is an ldm's autoencoder and the two buffers that bind the
// ldm to it.
type latentSpace struct {
	deps     models.Loader
	channels int  // of the latents
	side     int  // of the latent grid, before padding to the UNet's
	quantize bool // decode the nearest codes, not the latents themselves
	// Scale is the latent scale factor (latent_scale): one for all the
	// latents, or one per channel; 0 until the ldm is bound to its VQ-VAE.
	Scale *graphs.Param
	// Shift is each channel's mean (latent_shift), subtracted before
	// scaling; nil with one scale for all.
	Shift *graphs.Param
	// CodeNorms is the norm of each of the VQ-VAE's codes (codebook_norms),
	// all zeros until bound.
	CodeNorms *graphs.Param
	ae        *vqvae.VQVAE
}

// NewLatent builds an ldm. It loads its VQ-VAE only when it first needs it,
// so that a configuration can be built, exported and checked without.
func NewLatent(cfg *config.Config, common config.Common, deps models.Loader) (models.Model, error) {
	var l ldmSection
	if err := cfg.Decode("ldm", &l); err != nil {
		return nil, err
	}
	if side := common.Data.ImageSide(); side != imageSide {
		return nil, fmt.Errorf("config: the ldm's VQ-VAE takes 28x28 images; set data.image_size to 28")
	}
	if l.LatentChannels < 1 {
		return nil, fmt.Errorf("config: ldm.latent_channels must be positive (the VQ-VAE's vqvae.embedding_dim), got %d", l.LatentChannels)
	}
	if l.CodebookSize < 2 {
		return nil, fmt.Errorf("config: ldm.codebook_size must be at least 2 (the VQ-VAE's vqvae.codebook_size), got %d", l.CodebookSize)
	}
	const latentSide = imageSide / 4 // the VQ-VAE's two stride-2 convolutions
	ls := &latentSpace{deps: deps, channels: l.LatentChannels, side: latentSide, quantize: l.Quantize}
	ps := graphs.NewParamSet()
	switch l.Standardize {
	case "global":
		ls.Scale = ps.Add("latent_scale", 1)
	case "channel":
		ls.Scale = ps.Add("latent_scale", l.LatentChannels)
		ls.Shift = ps.Add("latent_shift", l.LatentChannels)
	default:
		return nil, fmt.Errorf("config: ldm.standardize must be global or channel, got %q", l.Standardize)
	}
	ls.CodeNorms = ps.Add("codebook_norms", l.CodebookSize)
	m, err := build(l.section, "ldm", common, deps, l.LatentChannels, paddedSide(latentSide), ls)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// imageSide is the side of the images an ldm's VQ-VAE takes and draws.
const imageSide = 28

// paddedSide is the grid the UNet runs on: the latent side rounded up to a
// multiple of 4.
func paddedSide(side int) int { return (side + 3) / 4 * 4 }

// autoencoder loads the VQ-VAE once and checks that it is the one the ldm
// was trained on, binding an unbound ldm to it.
func (l *latentSpace) autoencoder() (*vqvae.VQVAE, error) {
	if l.ae != nil {
		return l.ae, nil
	}
	ae, err := vqvae.LoadDependency(l.deps, LatentAutoencoderDependency)
	if err != nil {
		return nil, err
	}
	if err := l.matches(ae); err != nil {
		return nil, err
	}
	l.ae = ae
	return ae, nil
}

// matches checks ae against the bound codebook norms; an unbound ldm (all
// norms zero) takes ae's.
func (l *latentSpace) matches(ae *vqvae.VQVAE) error {
	c, side := ae.LatentShape()
	if c != l.channels || side != l.side {
		return fmt.Errorf("the ldm diffuses %dx%dx%d latents, the VQ-VAE's are %dx%dx%d; set ldm.latent_channels to its vqvae.embedding_dim",
			l.channels, l.side, l.side, c, side, side)
	}
	if k := ae.Net.Codebook.K; len(l.CodeNorms.Data) != k {
		return fmt.Errorf("the ldm is built for a VQ-VAE of %d codes, this one has %d; set ldm.codebook_size to its vqvae.codebook_size", len(l.CodeNorms.Data), k)
	}
	if err := ae.BindCodeNorms(l.CodeNorms.Data); err != nil {
		return fmt.Errorf("the ldm was trained on the latents of %w; train an ldm on this one: genmodel train --model ldm --set ldm.vqvae=CHECKPOINT", err)
	}
	return nil
}

// dims is the number of values of one padded latent.
func (l *latentSpace) dims() int {
	p := paddedSide(l.side)
	return l.channels * p * p
}

// encodeSet encodes ds into scaled, padded latents: a dataset of
// (channels*8) x 8 "images", the channel planes stacked, with the same
// labels. An unbound ldm takes its scale from these latents.
func (l *latentSpace) encodeSet(ds *data.Dataset) (*data.Dataset, error) {
	ae, err := l.autoencoder()
	if err != nil {
		return nil, err
	}
	if ds.H != imageSide || ds.W != imageSide {
		return nil, fmt.Errorf("%s: images are %dx%d, the VQ-VAE takes 28x28", ds.Name, ds.H, ds.W)
	}
	z, err := ae.EncodeLatents(ds.Pixels, ds.N)
	if err != nil {
		return nil, err
	}
	if l.Scale.Data[0] == 0 {
		l.standardizeBy(z)
	}
	p := paddedSide(l.side)
	out := &data.Dataset{Name: ds.Name + " (vqvae latents)", N: ds.N, H: l.channels * p, W: p,
		Pixels: make([]float32, ds.N*l.dims()), Labels: ds.Labels}
	l.pad(out.Pixels, z, ds.N)
	return out, nil
}

// standardizeBy sets the scale (and shift) from the latents z of the
// training set: 1/std of all values, or each channel's mean and 1/std.
func (l *latentSpace) standardizeBy(z []float32) {
	if l.Shift == nil {
		_, std := meanStd(z)
		l.Scale.Data[0] = float32(1 / std)
		return
	}
	hw := l.side * l.side
	n := len(z) / (l.channels * hw)
	plane := make([]float32, 0, n*hw)
	for c := range l.channels {
		plane = plane[:0]
		for i := range n {
			plane = append(plane, z[(i*l.channels+c)*hw:(i*l.channels+c+1)*hw]...)
		}
		mean, std := meanStd(plane)
		l.Shift.Data[c], l.Scale.Data[c] = float32(mean), float32(1/std)
	}
}

// affine is the map of latent channel c into diffusion space: x = (z -
// shift) * scale.
func (l *latentSpace) affine(c int) (shift, scale float32) {
	if l.Shift == nil {
		return 0, l.Scale.Data[0]
	}
	return l.Shift.Data[c], l.Scale.Data[c]
}

// meanStd is the mean and the standard deviation of xs, in float64.
func meanStd(xs []float32) (mean, std float64) {
	for _, v := range xs {
		mean += float64(v)
	}
	mean /= float64(len(xs))
	var sq float64
	for _, v := range xs {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(sq / float64(len(xs)))
}

// pad writes n latents z (channels x side x side each), standardized,
// into dst (channels x 8 x 8 each), zeros in the pad.
func (l *latentSpace) pad(dst, z []float32, n int) {
	s, p := l.side, paddedSide(l.side)
	clear(dst[:n*l.dims()])
	for i := range n * l.channels {
		shift, k := l.affine(i % l.channels)
		for y := range s {
			src := z[(i*s+y)*s : (i*s+y+1)*s]
			row := dst[(i*p+y)*p : (i*p+y)*p+s]
			for x, v := range src {
				row[x] = k * (v - shift)
			}
		}
	}
}

// crop is pad's inverse: n padded, scaled latents x back to the VQ-VAE's.
func (l *latentSpace) crop(x []float32, n int) []float32 {
	s, p := l.side, paddedSide(l.side)
	z := make([]float32, n*l.channels*s*s)
	for i := range n * l.channels {
		shift, k := l.affine(i % l.channels)
		inv := 1 / k
		for y := range s {
			src := x[(i*p+y)*p : (i*p+y)*p+s]
			row := z[(i*s+y)*s : (i*s+y+1)*s]
			for xx, v := range src {
				row[xx] = v*inv + shift
			}
		}
	}
	return z
}

// decode turns n drawn latents x (padded and scaled) into images.
func (l *latentSpace) decode(dst, x []float32, n int) error {
	ae, err := l.autoencoder()
	if err != nil {
		return err
	}
	imgs, err := ae.DecodeLatents(l.crop(x, n), n, l.quantize)
	if err != nil {
		return err
	}
	copy(dst, imgs.Pix)
	return nil
}
