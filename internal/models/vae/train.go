package vae

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Params implements train.Trainable.
func (v *VAE) Params() []*graphs.Param { return v.Net.Params.List() }

// Optimizers implements train.Trainable. The optimizer is created here, not
// at the first step, so that a resumed run can load its state first.
func (v *VAE) Optimizers() []checkpoint.Named {
	if v.opt == nil {
		v.opt = models.NewAdam(v.common.Train, v.Params())
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
	models.FillNormal(v.loss.Eps, rng)
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
