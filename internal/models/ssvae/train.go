package ssvae

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Params implements train.Trainable.
func (m *SSVAE) Params() []*graphs.Param { return m.Net.Params.List() }

// Optimizers implements train.Trainable. The optimizer is created here, not
// at the first step, so that a resumed run can load its state first.
func (m *SSVAE) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = models.NewAdam(m.common.Train, m.Params())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

// weights normalizes the paper's objective per step (Kingma et al. 2014,
// eq. 9): J^alpha = sum_l -L(x,y) + sum_u -U(x) + alpha E_l[-log q(y|x)]
// with alpha = ssvae.alpha * N. Each image keeps the weight the paper's
// code gives it (1 for -L and -U; alpha / N_l = ssvae.alpha * N / N_l for
// -log q(y|x) of each of the N_l labelled images), and a step's loss is the
// mean over its unlabelled batch plus the mean over its labelled batch: the
// labelled images are drawn every step, far more often than in the paper's
// passes over both sets, so the labels steer training from the start.
func (m *SSVAE) weights(unlabelled, labelled int) nets.SSVAELossWeights {
	beta := m.cfg.Alpha * float64(m.total) / float64(m.labelled.N)
	return nets.SSVAELossWeights{
		Unlabelled:     1 / float64(unlabelled),
		Labelled:       1 / float64(labelled),
		Classification: beta / float64(labelled),
	}
}

// TrainStep implements train.Trainable: one Adam step on a batch of
// unlabelled images (the loop's) and ssvae.labelled_batch labelled ones
// drawn from the labelled set with the step's generator.
func (m *SSVAE) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if m.labelled == nil {
		return nil, fmt.Errorf("ssvae: no labelled images: the training loop did not hand the model its training set")
	}
	if m.prog == nil {
		if err := m.buildTrain(b.Size); err != nil {
			return nil, err
		}
	}
	m.fillLabelled(rng)
	m.binarize(m.xu, b.X[:len(m.xu)], rng)
	if m.m1 != nil {
		if err := m.m1.features(m.zu, m.xu, rng); err != nil {
			return nil, err
		}
		if err := m.m1.features(m.zl, m.xl, rng); err != nil {
			return nil, err
		}
		m.loss.SetUnlabelled(m.zu)
		m.loss.SetLabelled(m.zl, m.ys)
	} else {
		m.loss.SetUnlabelled(m.xu)
		m.loss.SetLabelled(m.xl, m.ys)
	}
	models.FillNormal(m.loss.EpsU, rng)
	models.FillNormal(m.loss.EpsL, rng)
	if err := m.prog.Run(); err != nil {
		return nil, err
	}
	m.Optimizers()
	if err := m.opt.Update(m.prog.Params(), m.prog.Grads()); err != nil {
		return nil, err
	}
	bu, bl := float64(m.loss.Unlabelled), float64(m.loss.Labelled)
	m.metrics = append(m.metrics[:0],
		train.Metric{Name: "loss", Value: m.prog.Scalar(m.loss.Loss)},
		train.Metric{Name: "unlabelled", Value: m.prog.Scalar(m.loss.UnlabelledLoss) / bu},
		train.Metric{Name: "labelled", Value: m.prog.Scalar(m.loss.LabelledLoss) / bl},
		train.Metric{Name: "ce", Value: m.prog.Scalar(m.loss.ClassLoss) / bl})
	return m.metrics, nil
}

// fillLabelled draws the step's labelled images, without replacement, and
// binarizes them.
func (m *SSVAE) fillLabelled(rng *rand.Rand) {
	n, d := m.labelled.N, m.labelled.H*m.labelled.W
	// From the identity every step: the draw depends on the step's
	// generator alone, as resuming needs.
	for i := range m.pick {
		m.pick[i] = i
	}
	for j := range m.ys {
		k := j + rng.IntN(n-j)
		m.pick[j], m.pick[k] = m.pick[k], m.pick[j]
		i := m.pick[j]
		m.ys[j] = m.labelled.Labels[i]
		m.binarize(m.xl[j*d:(j+1)*d], m.labelled.Image(i), rng)
	}
}

// binarize writes x as trained on into dst: with dynamic binarization each
// pixel is drawn from Bernoulli(x), afresh every time an image is used (the
// paper's code for MNIST); otherwise, and always for M1, which encodes gray
// images, x itself, its gray values the Bernoulli targets.
func (m *SSVAE) binarize(dst, x []float32, rng *rand.Rand) {
	if !m.cfg.DynamicBinarization || m.m1 != nil {
		copy(dst, x)
		return
	}
	for i, p := range x {
		dst[i] = 0
		if rng.Float32() < p {
			dst[i] = 1
		}
	}
}

func (m *SSVAE) buildTrain(batch int) error {
	bl := m.cfg.LabelledBatch
	lg, err := m.Net.BuildLoss(batch, bl, m.weights(batch, bl))
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(lg.Bound, lg.Loss, graphs.Outputs{lg.Loss, lg.UnlabelledLoss, lg.LabelledLoss, lg.ClassLoss})
	if err != nil {
		return err
	}
	if len(prog.Params()) != len(m.Params()) {
		return fmt.Errorf("ssvae: the loss graph uses %d of %d parameters", len(prog.Params()), len(m.Params()))
	}
	d := m.pixels()
	m.loss, m.prog = lg, prog
	m.xu, m.xl = make([]float32, batch*d), make([]float32, bl*d)
	if m.m1 != nil {
		z := m.Net.Config.InputDim
		m.zu, m.zl = make([]float32, batch*z), make([]float32, bl*z)
	}
	m.ys, m.pick = make([]uint8, bl), make([]int, m.labelled.N)
	return nil
}
