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

// Params implements train.Trainable: the state_dict, the codebook's EMA
// buffers included, so that a resumed run continues them bit for bit.
func (m *VQVAE) Params() []*graphs.Param { return m.Net.Params.List() }

// Optimizers implements train.Trainable: Adam over the encoder and the
// decoder (the codebook moves by its averages). It is created here, not at
// the first step, so that a resumed run can load its state first.
func (m *VQVAE) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = models.NewAdam(m.common.Train, m.Net.Trainable())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

// UseTrainingSet implements train.TrainingSetUser: the model keeps the set
// to show reconstructions of its first images after each epoch, and trains
// on all of it.
func (m *VQVAE) UseTrainingSet(ds *data.Dataset) (*data.Dataset, error) {
	m.shown = ds
	return ds, nil
}

// ema is the codebook update's configuration.
func (m *VQVAE) ema() emaConfig {
	return emaConfig{Decay: m.cfg.EMADecay, Epsilon: m.cfg.EMAEpsilon, DeadAfter: m.cfg.DeadAfter}
}

// TrainStep implements train.Trainable: one Adam step of the encoder and
// the decoder on reconstruction MSE + beta * commitment, then one EMA step
// of the codebook toward the batch's encoder outputs, with restarts of dead
// codes drawn from the step's generator. Metrics: the loss, its two terms,
// and the perplexity and number of the codes the batch picked.
func (m *VQVAE) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if m.prog == nil || m.loss.Batch != b.Size {
		if err := m.buildTrain(b.Size); err != nil {
			return nil, err
		}
	}
	copy(m.loss.X, b.X[:len(m.loss.X)])
	if err := m.prog.Run(); err != nil {
		return nil, err
	}
	m.Optimizers()
	if err := m.opt.Update(m.prog.Params(), m.prog.Grads()); err != nil {
		return nil, err
	}
	l := m.Net.Config.LatentSide()
	idx := m.loss.Codes.Index
	restarted := updateCodebook(m.Net.Codebook, m.prog.Value(m.loss.ZE), idx, l*l, m.ema(), rng)
	perplexity, used := usage(histogram(idx, m.Net.Codebook.K))
	m.metrics = append(m.metrics[:0],
		train.Metric{Name: "loss", Value: m.prog.Scalar(m.loss.Loss)},
		train.Metric{Name: "recon", Value: m.prog.Scalar(m.loss.Recon)},
		train.Metric{Name: "commitment", Value: m.prog.Scalar(m.loss.Commit)},
		train.Metric{Name: "perplexity", Value: perplexity},
		train.Metric{Name: "codes_used", Value: float64(used)},
		train.Metric{Name: "restarts", Value: float64(restarted)})
	return m.metrics, nil
}

func (m *VQVAE) buildTrain(batch int) error {
	if m.prog != nil {
		m.prog.Close()
	}
	lg, err := m.Net.BuildLoss(batch, m.cfg.Beta)
	if err != nil {
		return err
	}
	prog, err := graphs.CompileWRT(lg.Bound, lg.Loss, graphs.Outputs{lg.Loss, lg.Recon, lg.Commit, lg.ZE}, m.Net.Trainable())
	if err != nil {
		return err
	}
	if len(prog.Params()) != len(m.Net.Trainable()) {
		return fmt.Errorf("vqvae: the loss graph uses %d of %d trainable parameters", len(prog.Params()), len(m.Net.Trainable()))
	}
	m.loss, m.prog = lg, prog
	return nil
}
