package pixelcnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Params implements train.Trainable.
func (m *PixelCNN) Params() []*graphs.Param { return m.Net.Params.List() }

// Optimizers implements train.Trainable. The optimizer is created here, not
// at the first step, so that a resumed run can load its state first.
func (m *PixelCNN) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = models.NewAdam(m.common.Train, m.Params())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

// TrainStep implements train.Trainable: one Adam step on the mean negative
// log-likelihood of the batch, binarized as configured (dynamic: with the
// step's generator). The metric nll is that mean in nats per image.
func (m *PixelCNN) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if m.prog == nil {
		if err := m.buildTrain(b.Size); err != nil {
			return nil, err
		}
	}
	m.binarize(m.step.X, b.X[:len(m.step.X)], rng)
	m.step.SetBinary(m.step.X)
	if m.step.Y != nil {
		if len(b.Labels) < b.Size {
			return nil, fmt.Errorf("pixelcnn: a conditional model needs labelled images")
		}
		for i := range m.ys {
			m.ys[i] = int(b.Labels[i])
		}
		m.step.SetClasses(m.ys)
	}
	if err := m.prog.Run(); err != nil {
		return nil, err
	}
	m.Optimizers()
	if err := m.opt.Update(m.prog.Params(), m.prog.Grads()); err != nil {
		return nil, err
	}
	m.metrics = append(m.metrics[:0], train.Metric{Name: "nll", Value: m.prog.Scalar(m.step.Loss)})
	return m.metrics, nil
}

func (m *PixelCNN) buildTrain(batch int) error {
	s, err := m.Net.Build(batch)
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(s.Bound, s.Loss, graphs.Outputs{s.Loss})
	if err != nil {
		return err
	}
	if len(prog.Params()) != len(m.Params()) {
		return fmt.Errorf("pixelcnn: the loss graph uses %d of %d parameters", len(prog.Params()), len(m.Params()))
	}
	m.step, m.prog, m.ys = s, prog, make([]int, batch)
	return nil
}
