package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// vaeSection is the `vae:` section of the configuration.
type vaeSection struct {
	LatentDim     int     `mapstructure:"latent_dim"`
	Hidden        []int   `mapstructure:"hidden"`
	Decoder       string  `mapstructure:"decoder"`
	Beta          float64 `mapstructure:"beta"`
	KLWarmupSteps int     `mapstructure:"kl_warmup_steps"`
	FreeBits      float64 `mapstructure:"free_bits"`
}

// VAE trains and evaluates nets.VAE.
type VAE struct {
	Net    *nets.VAE
	cfg    vaeSection
	common config.Common

	loss    *nets.VAETrainGraph // built on the first training step
	prog    *graphs.Program
	opt     *train.Adam
	metrics []train.Metric
}

func newVAE(cfg *config.Config, common config.Common) (Model, error) {
	var s vaeSection
	if err := cfg.Decode("vae", &s); err != nil {
		return nil, err
	}
	if s.Beta < 0 || s.KLWarmupSteps < 0 || s.FreeBits < 0 {
		return nil, fmt.Errorf("config: vae.beta, vae.kl_warmup_steps and vae.free_bits must not be negative")
	}
	size := common.Data.ImageSize
	if common.Data.Dataset == "mnist" {
		size = 28
	}
	net, err := nets.NewVAE(nets.VAEConfig{
		InputDim: size * size, Hidden: s.Hidden, LatentDim: s.LatentDim,
		Decoder: s.Decoder, FreeBits: s.FreeBits,
	}, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &VAE{Net: net, cfg: s, common: common}, nil
}

// Params implements train.Trainable.
func (v *VAE) Params() []*graphs.Param { return v.Net.Params.List() }

// Optimizers implements train.Trainable. The optimizer is created here, not
// at the first step, so that a resumed run can load its state first.
func (v *VAE) Optimizers() []checkpoint.Named {
	if v.opt == nil {
		v.opt = newAdam(v.common.Train, v.Params())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: v.opt}}
}

// klWeight is beta, ramped up linearly over the warm-up steps (KL annealing,
// Bowman et al. 2016).
func (v *VAE) klWeight(step int64) float32 {
	w := v.cfg.Beta
	if n := v.cfg.KLWarmupSteps; n > 0 && step < int64(n) {
		w *= float64(step+1) / float64(n)
	}
	return float32(w)
}

// TrainStep implements train.Trainable: one Adam step on the negative ELBO.
func (v *VAE) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if v.prog == nil {
		if err := v.buildTrain(b.Size); err != nil {
			return nil, err
		}
	}
	copy(v.loss.X, b.X)
	fillNormal(v.loss.Eps, rng)
	*v.loss.KLWeight = G.F32(v.klWeight(step))
	if err := v.prog.Run(); err != nil {
		return nil, err
	}
	v.Optimizers()
	if err := v.opt.Update(v.prog.Params(), v.prog.Grads()); err != nil {
		return nil, err
	}
	n := float64(b.Size)
	recon, kl := v.prog.Scalar(v.loss.ReconLoss)/n, v.prog.Scalar(v.loss.KL)/n
	v.metrics = append(v.metrics[:0],
		train.Metric{Name: "loss", Value: recon + kl},
		train.Metric{Name: "recon", Value: recon},
		train.Metric{Name: "kl", Value: kl})
	return v.metrics, nil
}

func (v *VAE) buildTrain(batch int) error {
	lg, err := v.Net.BuildLoss(batch)
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(lg.Bound, lg.Loss, graphs.Outputs{lg.ReconLoss, lg.KL})
	if err != nil {
		return err
	}
	if len(prog.Params()) != len(v.Params()) {
		return fmt.Errorf("vae: the loss graph uses %d of %d parameters", len(prog.Params()), len(v.Params()))
	}
	v.loss, v.prog = lg, prog
	return nil
}

func fillNormal(dst []float32, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}

// Samples implements train.Trainable: decoded prior draws.
func (v *VAE) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return sample.VAEPrior(v.Net, n, rng)
}

// Kinds implements Model.
func (v *VAE) Kinds() []string { return []string{"prior", "recon", "interp", "manifold"} }

// Draw implements Model.
func (v *VAE) Draw(req DrawRequest, test *data.Dataset, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	opt := sample.DefaultGridOptions()
	if req.Class >= 0 {
		return sample.Images{}, opt, errNotConditional("vae")
	}
	n := req.N
	switch req.Kind {
	case "prior":
		imgs, err := sample.VAEPrior(v.Net, n, rng)
		return imgs, opt, err
	case "recon":
		n = min(n, test.N)
		x := sample.Images{N: n, H: test.H, W: test.W, Pix: test.Pixels[:n*test.H*test.W]}
		opt.NRow = n
		imgs, err := sample.VAEReconstructions(v.Net, x)
		return imgs, opt, err
	case "interp":
		// Two test digits of different classes, picked by rng.
		i := rng.IntN(test.N)
		j := rng.IntN(test.N)
		for test.Labels != nil && test.Labels[j] == test.Labels[i] {
			j = rng.IntN(test.N)
		}
		opt.NRow = n
		imgs, err := sample.VAEInterpolation(v.Net, test.Image(i), test.Image(j), n)
		return imgs, opt, err
	case "manifold":
		side := max(2, int(math.Round(math.Sqrt(float64(n)))))
		opt.NRow = side
		imgs, err := sample.VAEManifold(v.Net, side)
		return imgs, opt, err
	}
	return sample.Images{}, opt, fmt.Errorf("the vae draws %v, not %q", v.Kinds(), req.Kind)
}
