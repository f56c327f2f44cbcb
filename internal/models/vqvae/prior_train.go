package vqvae

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Optimizers implements train.Trainable: Adam over the PixelCNN (not the
// code norms). It is created here, not at the first step, so that a resumed
// run can load its state first.
func (p *Prior) Optimizers() []checkpoint.Named {
	if p.opt == nil {
		p.opt = models.NewAdam(p.common.Train, p.Net.Params.List())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: p.opt}}
}

// UseTrainingSet implements train.TrainingSetUser: the prior trains on the
// code grids of the training images, encoded once by its VQ-VAE (binding
// the prior to it), not on the pixels.
func (p *Prior) UseTrainingSet(ds *data.Dataset) (*data.Dataset, error) {
	return p.codeSet(ds)
}

// TrainStep implements train.Trainable: one Adam step on the mean negative
// log-likelihood of the batch's code grids. The metric nll is that mean in
// nats per grid.
func (p *Prior) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if _, err := p.autoencoder(); err != nil { // a resumed prior must still match
		return nil, err
	}
	if b.H != p.side || b.W != p.side {
		return nil, fmt.Errorf("vqvae-prior: batches of %dx%d, want code grids of %dx%d", b.H, b.W, p.side, p.side)
	}
	if p.prog == nil || p.step.Batch != b.Size {
		if err := p.buildTrain(b.Size); err != nil {
			return nil, err
		}
	}
	for i := range p.vals {
		c := int(b.X[i])
		if c < 0 || c >= p.cfg.CodebookSize || float32(c) != b.X[i] {
			return nil, fmt.Errorf("vqvae-prior: batch value %g is no code of a codebook of %d", b.X[i], p.cfg.CodebookSize)
		}
		p.vals[i] = c
	}
	p.step.SetValues(p.vals)
	if err := p.prog.Run(); err != nil {
		return nil, err
	}
	p.Optimizers()
	if err := p.opt.Update(p.prog.Params(), p.prog.Grads()); err != nil {
		return nil, err
	}
	p.metrics = append(p.metrics[:0], train.Metric{Name: "nll", Value: p.prog.Scalar(p.step.Loss)})
	return p.metrics, nil
}

func (p *Prior) buildTrain(batch int) error {
	if p.prog != nil {
		p.prog.Close()
	}
	s, err := p.Net.Build(batch)
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(s.Bound, s.Loss, graphs.Outputs{s.Loss})
	if err != nil {
		return err
	}
	if n := len(p.Net.Params.List()); len(prog.Params()) != n {
		return fmt.Errorf("vqvae-prior: the loss graph uses %d of %d parameters", len(prog.Params()), n)
	}
	p.step, p.prog, p.vals = s, prog, make([]int, batch*p.side*p.side)
	return nil
}
