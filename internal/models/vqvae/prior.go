package vqvae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// The second stage of van den Oord et al. 2017: once the VQ-VAE is
// trained, a gated PixelCNN learns p(codes) over its 7x7 grids of code
// indices (128 categories a position, a softmax each), and new digits are
// drawn by sampling a grid from it, position by position, and decoding it.
// The prior is the model vqvae-prior; the VQ-VAE it models is a dependency
// (the shipped one unless prior.vqvae or --vqvae names another), and the
// prior keeps the norms of that VQ-VAE's codes so that it is never paired
// with another one's codebook, where the same indices mean other shapes.

// AutoencoderDependency is the VQ-VAE whose codes a prior models.
var AutoencoderDependency = models.Dependency{
	Name:    "vqvae",
	Key:     "prior.vqvae",
	Model:   "vqvae",
	Purpose: "the VQ-VAE whose codes the prior models",
}

// priorSection is the `prior:` section of vqvae-prior's configuration.
type priorSection struct {
	VQVAE        string `mapstructure:"vqvae"`
	CodebookSize int    `mapstructure:"codebook_size"`
	Channels     int    `mapstructure:"channels"`
	Layers       int    `mapstructure:"layers"`
	FirstKernel  int    `mapstructure:"first_kernel"`
	Kernel       int    `mapstructure:"kernel"`
	Head         int    `mapstructure:"head"`
}

// Prior trains, samples and evaluates a PixelCNN over a VQ-VAE's codes.
type Prior struct {
	Net *nets.PixelCNN
	// CodeNorms holds the Euclidean norm of each code of the VQ-VAE the
	// prior was trained on: all zeros until it is bound to one.
	CodeNorms *graphs.Param
	params    []*graphs.Param
	cfg       priorSection
	common    config.Common
	side      int // of the code grid
	deps      models.Loader
	ae        *VQVAE // the bound VQ-VAE, loaded on first use

	step    *nets.PixelCNNGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
	vals    []int

	testOf    *data.Dataset // the test set whose codes testCodes holds
	testCodes []int32
}

// NewPrior builds the prior. It loads its VQ-VAE only when it first needs
// it, so that a configuration can be built, exported and checked without.
func NewPrior(cfg *config.Config, common config.Common, deps models.Loader) (models.Model, error) {
	var s priorSection
	if err := cfg.Decode("prior", &s); err != nil {
		return nil, err
	}
	side := common.Data.ImageSide()
	if side%4 != 0 {
		return nil, fmt.Errorf("config: data.image_size must be a multiple of 4 (the VQ-VAE's grid is a quarter of it), got %d", side)
	}
	l := side / 4
	net, err := nets.NewPixelCNN(nets.PixelCNNConfig{
		Height: l, Width: l, InCategories: s.CodebookSize, OutCategories: s.CodebookSize,
		Channels: s.Channels, Layers: s.Layers, FirstKernel: s.FirstKernel, Kernel: s.Kernel, Head: s.Head,
	}, models.InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: prior: %w", err)
	}
	p := &Prior{Net: net, cfg: s, common: common, side: l, deps: deps}
	norms := graphs.NewParamSet()
	p.CodeNorms = norms.Add("codebook_norms", s.CodebookSize)
	p.params = append(net.Params.List(), p.CodeNorms)
	return p, nil
}

// Params implements train.Trainable: the PixelCNN's weights and the code
// norms (a buffer Adam does not move).
func (p *Prior) Params() []*graphs.Param { return p.params }

// codeNorms returns the norm of each of cb's codes, summed in float64 so
// that the same codebook always gives the same float32s.
func codeNorms(cb *nets.VQCodebook) []float32 {
	d := len(cb.Embed.Data) / cb.K
	out := make([]float32, cb.K)
	for k := range out {
		var s float64
		for _, v := range cb.Embed.Data[k*d : (k+1)*d] {
			s += float64(v) * float64(v)
		}
		out[k] = float32(math.Sqrt(s))
	}
	return out
}

// Matches reports whether the prior models the codes of ae: it binds an
// unbound prior (all norms zero, as before its first training step) to ae,
// and otherwise refuses a VQ-VAE whose codebook is not the one it was
// trained on.
func (p *Prior) Matches(ae *VQVAE) error {
	cb := ae.Net.Codebook
	if cb.K != p.cfg.CodebookSize || ae.Net.Config.LatentSide() != p.side {
		return fmt.Errorf("the prior models %dx%d grids of %d codes, the VQ-VAE has %dx%d grids of %d; set prior.codebook_size and data.image_size to match",
			p.side, p.side, p.cfg.CodebookSize, ae.Net.Config.LatentSide(), ae.Net.Config.LatentSide(), cb.K)
	}
	if err := ae.BindCodeNorms(p.CodeNorms.Data); err != nil {
		return fmt.Errorf("the prior was trained on the codes of %w; train a prior on this one: genmodel train --model vqvae-prior --set prior.vqvae=CHECKPOINT", err)
	}
	return nil
}

// autoencoder loads the VQ-VAE the prior models, once, and checks that it
// is the one the prior was trained on.
func (p *Prior) autoencoder() (*VQVAE, error) {
	if p.ae != nil {
		return p.ae, nil
	}
	ae, err := LoadDependency(p.deps, AutoencoderDependency)
	if err != nil {
		return nil, err
	}
	if err := p.Matches(ae); err != nil {
		return nil, err
	}
	p.ae = ae
	return ae, nil
}

// codeSet encodes ds into its code grids, as a dataset of side x side
// "images" whose values are the code indices (exact in float32), with the
// same labels.
func (p *Prior) codeSet(ds *data.Dataset) (*data.Dataset, error) {
	ae, err := p.autoencoder()
	if err != nil {
		return nil, err
	}
	if s := ae.Net.Config.Side; ds.H != s || ds.W != s {
		return nil, fmt.Errorf("%s: images are %dx%d, the VQ-VAE takes %dx%d", ds.Name, ds.H, ds.W, s, s)
	}
	codes, err := ae.EncodeCodes(ds.Pixels, ds.N)
	if err != nil {
		return nil, err
	}
	out := &data.Dataset{Name: ds.Name + " (vqvae codes)", N: ds.N, H: p.side, W: p.side,
		Pixels: make([]float32, len(codes)), Labels: ds.Labels}
	for i, c := range codes {
		out.Pixels[i] = float32(c)
	}
	return out, nil
}

// testSet returns the code grids of test, encoded once.
func (p *Prior) testSet(test *data.Dataset) ([]int32, error) {
	if p.testOf == test {
		return p.testCodes, nil
	}
	ae, err := p.autoencoder()
	if err != nil {
		return nil, err
	}
	if s := ae.Net.Config.Side; test.H != s || test.W != s {
		return nil, fmt.Errorf("test images are %dx%d, the VQ-VAE takes %dx%d", test.H, test.W, s, s)
	}
	codes, err := ae.EncodeCodes(test.Pixels, test.N)
	if err != nil {
		return nil, err
	}
	p.testOf, p.testCodes = test, codes
	return codes, nil
}

// trainedPrior is the CodePrior of vqvae.prior: pixelcnn, a vqvae-prior
// loaded when the VQ-VAE first draws, which must have been trained on the
// VQ-VAE's own codes.
type trainedPrior struct {
	ae    *VQVAE
	prior *Prior
}

func (t *trainedPrior) Describe() string {
	return "code grids drawn position by position from the PixelCNN prior (vqvae-prior) trained on this VQ-VAE's codes"
}

func (t *trainedPrior) Draw(n, side int, rng *rand.Rand) ([]int32, error) {
	if t.prior == nil {
		m, err := t.ae.deps.Load(CodePriorDependency)
		if err != nil {
			return nil, err
		}
		p, ok := m.(*Prior)
		if !ok {
			return nil, fmt.Errorf("the code prior is a %T, not a vqvae-prior", m)
		}
		if err := p.Matches(t.ae); err != nil {
			return nil, fmt.Errorf("--code-prior: %w (or sample with --set vqvae.prior=histogram)", err)
		}
		t.prior = p
	}
	if side != t.prior.side {
		return nil, fmt.Errorf("the code prior draws %dx%d grids, not %dx%d", t.prior.side, t.prior.side, side, side)
	}
	return t.prior.DrawCodes(n, rng)
}
