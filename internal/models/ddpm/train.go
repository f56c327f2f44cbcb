package ddpm

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Params implements train.Trainable: the network's state_dict, then the
// EMA's, then an ldm's latent scale (and shift) and code norms.
func (m *DDPM) Params() []*graphs.Param {
	ps := m.Net.Params.List()
	if m.EMA != nil {
		ps = append(ps, m.EMA.Params.List()...)
	}
	if m.latent != nil {
		ps = append(ps, m.latent.Scale)
		if m.latent.Shift != nil {
			ps = append(ps, m.latent.Shift)
		}
		ps = append(ps, m.latent.CodeNorms)
	}
	return ps
}

// UseTrainingSet implements train.TrainingSetUser: an ldm trains on the
// latents of the training images, encoded once by its VQ-VAE (binding the
// ldm to it); a ddpm on the images.
func (m *DDPM) UseTrainingSet(ds *data.Dataset) (*data.Dataset, error) {
	if m.latent == nil {
		return ds, nil
	}
	return m.latent.encodeSet(ds)
}

// Optimizers implements train.Trainable.
func (m *DDPM) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = models.NewAdam(m.common.Train, m.Net.Params.List())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

// TrainStep implements train.Trainable: uniform timesteps, Gaussian noise,
// one Adam step on the squared error of the configured prediction with the
// configured weighting, then the EMA update.
func (m *DDPM) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if b.H*b.W != m.pixels() || len(b.X) != b.Size*m.pixels() {
		return nil, fmt.Errorf("batches of %d samples of %dx%d, want %d values each", b.Size, b.H, b.W, m.pixels())
	}
	if m.latent != nil {
		if _, err := m.latent.autoencoder(); err != nil { // a resumed ldm must still match
			return nil, err
		}
	}
	if m.prog == nil {
		ng, err := nets.BuildNoiseGraph(m.Net, b.Size, true)
		if err != nil {
			return nil, err
		}
		prog, err := graphs.Compile(ng.Bound, ng.Loss, graphs.Outputs{ng.Loss})
		if err != nil {
			return nil, err
		}
		m.trainG, m.prog = ng, prog
		m.ts, m.x0, m.eps = make([]int, b.Size), make([]float32, len(b.X)), make([]float32, len(b.X))
	}
	ng := m.trainG
	for i := range m.ts {
		m.ts[i] = rng.IntN(m.Sched.T())
	}
	if m.latent != nil {
		copy(m.x0, b.X) // latents, scaled to unit variance already
	} else {
		for i, v := range b.X {
			m.x0[i] = 2*v - 1
		}
	}
	models.FillNormal(m.eps, rng)
	m.Sched.QSample(ng.XT, m.x0, m.eps, m.ts, b.H*b.W)
	m.Sched.Target(m.Pred, ng.Target, m.x0, m.eps, m.ts, b.H*b.W)
	m.fillWeights(ng.Weight, b.H*b.W)
	if k := m.Net.Classes; k > 0 {
		if b.Labels == nil {
			return nil, fmt.Errorf("the conditional ddpm needs labelled images")
		}
		// Labels are dropped to the null row with probability class_dropout,
		// so one network learns eps(x_t, y) and eps(x_t) (Ho & Salimans 2022).
		clear(ng.OneHot)
		for i, y := range b.Labels {
			c := int(y)
			if rng.Float64() < m.cfg.ClassDropout {
				c = k
			}
			ng.OneHot[i*(k+1)+c] = 1
		}
	}
	layers.TimestepEmbedding(ng.TSin, m.ts, m.Net.Ch)
	if err := m.prog.Run(); err != nil {
		return nil, err
	}
	m.Optimizers()
	if err := m.opt.Update(m.prog.Params(), m.prog.Grads()); err != nil {
		return nil, err
	}
	m.updateEMA()
	m.metrics = append(m.metrics[:0], train.Metric{Name: "loss", Value: m.prog.Scalar(ng.Loss)})
	m.metrics = m.opt.AppendGradNorm(m.metrics)
	return m.metrics, nil
}

// fillWeights writes each image's loss weight over its pixels: 1 for the
// simple loss, else the Min-SNR weight of its timestep.
func (m *DDPM) fillWeights(w []float32, pixels int) {
	for i, t := range m.ts {
		v := float32(1)
		if m.cfg.LossWeighting == WeightingMinSNR {
			v = float32(m.Sched.MinSNRWeight(m.Pred, t, m.cfg.MinSNRGamma))
		}
		row := w[i*pixels : (i+1)*pixels]
		for j := range row {
			row[j] = v
		}
	}
}

// updateEMA moves the averaged weights toward the trained ones
// (models.UpdateAverage). n is the optimizer's step count, so a resumed run
// continues the sequence.
func (m *DDPM) updateEMA() {
	if m.EMA != nil {
		models.UpdateAverage(m.EMA.Params.List(), m.Net.Params.List(), m.cfg.EMADecay, m.opt.Steps-1)
	}
}
