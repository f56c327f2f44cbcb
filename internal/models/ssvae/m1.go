package ssvae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/vae"
	"github.com/genmodel/genmodel/internal/sample"
)

// m1Stage is M1 of M1+M2 (Kingma et al. 2014, section 3.2.3): a VAE
// trained on all the images, whose latent z1 M2 then models. Its
// posterior's spread is used as the paper uses it, a fresh z1 drawn at
// every training use of an image, which acts as data augmentation for the
// few labelled images; tests take the mean.
type m1Stage struct {
	deps   models.Loader
	dim    int // ssvae.m1_latent_dim
	pixels int // of an image
	vae    *vae.VAE
	enc    *vae.Encoder
	lv     []float32 // the encoder's log-variances, reused
}

// load loads M1 once and checks it against the configuration.
func (s *m1Stage) load() (*vae.VAE, error) {
	if s.vae != nil {
		return s.vae, nil
	}
	v, err := vae.LoadDependency(s.deps, M1Dependency)
	if err != nil {
		return nil, err
	}
	if v.LatentDim() != s.dim {
		return nil, fmt.Errorf("--m1: the VAE's latents have %d dimensions, ssvae.m1_latent_dim says %d; set it to the VAE's vae.latent_dim", v.LatentDim(), s.dim)
	}
	if d := v.Net.Config.InputDim; d != s.pixels {
		return nil, fmt.Errorf("--m1: the VAE takes %d pixels, the ssvae's images have %d; set data.image_size to the VAE's", d, s.pixels)
	}
	s.vae = v
	return v, nil
}

// encoder returns M1's q(z1|x), compiled once for chunks of
// sample.ChunkSize images.
func (s *m1Stage) encoder() (*vae.Encoder, error) {
	if s.enc != nil {
		return s.enc, nil
	}
	v, err := s.load()
	if err != nil {
		return nil, err
	}
	if s.enc, err = v.NewEncoder(sample.ChunkSize); err != nil {
		return nil, err
	}
	s.lv = make([]float32, s.enc.Batch*s.dim)
	return s.enc, nil
}

// features writes z1 of the images x into z: a draw from q(z1|x) made with
// rng, or its mean when rng is nil.
func (s *m1Stage) features(z, x []float32, rng *rand.Rand) error {
	e, err := s.encoder()
	if err != nil {
		return err
	}
	return sample.Chunks(len(x)/s.pixels, e.Batch, func(lo, rows int) error {
		dst := z[lo*s.dim : (lo+rows)*s.dim]
		lv := s.lv[:rows*s.dim]
		if err := e.Encode(x[lo*s.pixels:(lo+rows)*s.pixels], dst, lv); err != nil {
			return err
		}
		if rng != nil {
			for i := range dst {
				dst[i] += float32(math.Exp(0.5*float64(lv[i])) * rng.NormFloat64())
			}
		}
		return nil
	})
}

// decode maps z1 to M1's expected images.
func (s *m1Stage) decode(z []float32) (sample.Images, error) {
	v, err := s.load()
	if err != nil {
		return sample.Images{}, err
	}
	return v.DecodeMeans(z)
}
