package flow

import (
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Params implements train.Trainable: the state_dict, buffers included.
func (m *Flow) Params() []*graphs.Param { return m.net.params() }

// Optimizers implements train.Trainable.
func (m *Flow) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = models.NewAdam(m.common.Train, m.net.trainable())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

// TrainStep implements train.Trainable: one Adam step on the mean negative
// log-likelihood; the reported loss is in bits/dim.
func (m *Flow) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if m.prog == nil || len(m.logDet) != b.Size {
		x, bound, _, loss, err := m.net.nll(b.Size, true)
		if err != nil {
			return nil, err
		}
		if m.prog, err = graphs.Compile(bound, loss, graphs.Outputs{loss}); err != nil {
			return nil, err
		}
		m.x, m.loss, m.logDet = x, loss, make([]float64, b.Size)
	}
	m.pre.forward(m.x, b.X, m.net.dims(), rng, m.logDet)
	if err := m.prog.Run(); err != nil {
		return nil, err
	}
	m.Optimizers()
	if err := m.opt.Update(m.prog.Params(), m.prog.Grads()); err != nil {
		return nil, err
	}
	var ld float64
	for _, v := range m.logDet {
		ld += v
	}
	nll := m.prog.Scalar(m.loss) - ld/float64(b.Size)
	m.metrics = append(m.metrics[:0], train.Metric{Name: "bits_per_dim", Value: bitsPerDim(nll, m.net.dims())})
	m.metrics = m.opt.AppendGradNorm(m.metrics)
	return m.metrics, nil
}
