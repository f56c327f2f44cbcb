package gan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// Params implements train.Trainable.
func (m *GAN) Params() []*graphs.Param { return append(m.Net.AllParams().List(), m.ema...) }

// SamplingParams implements models.SamplingOnly: the generator's tensors,
// all that drawing reads of a GAN without an average.
func (m *GAN) SamplingParams() []*graphs.Param {
	var out []*graphs.Param
	for _, p := range m.Net.AllParams().List() {
		if strings.HasPrefix(p.Name, "generator.") {
			out = append(out, p)
		}
	}
	return out
}

// SamplingState implements models.SamplingOnly: copies of the generator's
// tensors as render binds them; with an average, the average's tensors and
// their standing statistics, so a GAN built without one draws the same.
func (m *GAN) SamplingState() ([]*graphs.Param, error) {
	undo, err := m.useAverage()
	if err != nil {
		return nil, err
	}
	defer undo()
	var out []*graphs.Param
	for _, p := range m.SamplingParams() {
		out = append(out, &graphs.Param{Name: p.Name, Shape: p.Shape, Data: slices.Clone(p.Data)})
	}
	return out, nil
}

// Optimizers implements train.Trainable: one Adam per network, as the seed.
func (m *GAN) Optimizers() []checkpoint.Named {
	if m.optD == nil {
		t := m.common.Train
		d, g := t, t
		if m.cfg.DLR > 0 {
			d.LR = m.cfg.DLR
		}
		if m.cfg.GLR > 0 {
			g.LR = m.cfg.GLR
		}
		m.optD = models.NewAdam(d, m.Net.DiscParams())
		m.optG = models.NewAdam(g, m.Net.GenParams())
	}
	return []checkpoint.Named{{Name: "discriminator", Optimizer: m.optD}, {Name: "generator", Optimizer: m.optG}}
}

func (m *GAN) build(batch int) error {
	opt := nets.GANStepOptions{Loss: m.cfg.Loss, LabelSmoothing: m.cfg.LabelSmoothing, InstanceNoise: m.cfg.InstanceNoise > 0, InfoWeight: m.infoWeight}
	var err error
	if m.dStep, err = nets.BuildGANStep(m.Net, batch, true, opt); err != nil {
		return err
	}
	if m.gStep, err = nets.BuildGANStep(m.Net, batch, false, opt); err != nil {
		return err
	}
	dOut, gOut := graphs.Outputs{m.dStep.Loss, m.dStep.DReal, m.dStep.DFake}, graphs.Outputs{m.gStep.Loss, m.gStep.DFake}
	if m.dStep.CodeLoss != nil {
		dOut = append(dOut, m.dStep.CodeLoss)
	}
	if m.dProg, err = graphs.CompileWRT(m.dStep.Bound, m.dStep.Loss, dOut, m.Net.DiscParams()); err != nil {
		return err
	}
	m.gProg, err = graphs.CompileWRT(m.gStep.Bound, m.gStep.Loss, gOut, m.Net.GenParams())
	return err
}

// oneHotWidth is the width of G's one-hot input: the classes of a
// conditional GAN or the values of an InfoGAN code (0: none).
func (m *GAN) oneHotWidth() int { return nets.GeneratorOneHotWidth(m.Net) }

// fillStepInputs draws the noise of one graph run from rng: z, labels of the
// generated batch, dropout masks and instance noise.
func (m *GAN) fillStepInputs(s *nets.GANStep, step int64, rng *rand.Rand) {
	models.FillNormal(s.Z, rng)
	if s.OneHotFake != nil {
		fillOneHot(s.OneHotFake, m.oneHotWidth(), rng)
	}
	keep := float32(1 / (1 - m.cfg.DDropout))
	for _, mask := range s.Masks {
		for i := range mask {
			if rng.Float64() < m.cfg.DDropout {
				mask[i] = 0
			} else {
				mask[i] = keep
			}
		}
	}
	sigma := m.cfg.InstanceNoise
	if n := m.cfg.InstanceNoiseSteps; n > 0 {
		sigma *= max(0, 1-float64(step)/float64(n))
	}
	for _, buf := range [][]float32{s.NoiseReal, s.NoiseFake} {
		for i := range buf {
			buf[i] = float32(sigma * rng.NormFloat64())
		}
	}
}

func fillOneHot(dst []float32, classes int, rng *rand.Rand) {
	clear(dst)
	for r := 0; r < len(dst)/classes; r++ {
		dst[r*classes+rng.IntN(classes)] = 1
	}
}

// TrainStep implements train.Trainable: one discriminator step on the batch,
// then (every n_critic steps) one generator step on fresh noise.
func (m *GAN) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if m.dProg == nil {
		if err := m.build(b.Size); err != nil {
			return nil, err
		}
	}
	m.Optimizers()
	// (1) Update D: maximize log D(x) + log(1 - D(G(z))), or the loss's own
	// form of it.
	if err := m.updateD(b, step, rng); err != nil {
		return nil, err
	}
	// (2) Update G on fresh noise, once every n_critic D steps.
	if step%int64(m.cfg.NCritic) == int64(m.cfg.NCritic-1) {
		if err := m.updateG(step, rng); err != nil {
			return nil, err
		}
	}
	d := m.dStep
	m.metrics = append(m.metrics[:0],
		train.Metric{Name: "loss_d", Value: m.dProg.Scalar(d.Loss)},
		train.Metric{Name: "loss_g", Value: m.lastG[0]},
		train.Metric{Name: "d_x", Value: m.dProg.Scalar(d.DReal)},
		train.Metric{Name: "d_g_z1", Value: m.dProg.Scalar(d.DFake)},
		train.Metric{Name: "d_g_z2", Value: m.lastG[1]})
	if d.CodeLoss != nil {
		// How well D's head recovers G's codes: near log(codes) while G
		// ignores them, near 0 once each code makes images of its own.
		m.metrics = append(m.metrics, train.Metric{Name: "loss_info", Value: m.dProg.Scalar(d.CodeLoss)})
	}
	return m.metrics, nil
}

// updateD is one discriminator step on the real batch and a generated one,
// then WGAN's weight clipping when configured.
func (m *GAN) updateD(b train.Batch, step int64, rng *rand.Rand) error {
	d := m.dStep
	for i, v := range b.X {
		d.Real[i] = 2*v - 1 // [0,1] -> [-1,1], the range of G's tanh
	}
	if d.OneHotReal != nil {
		if b.Labels == nil {
			return fmt.Errorf("a conditional GAN needs labelled images")
		}
		clear(d.OneHotReal)
		for i, y := range b.Labels {
			d.OneHotReal[i*10+int(y)] = 1
		}
	}
	m.fillStepInputs(d, step, rng)
	m.Net.PowerIteration()
	if err := m.dProg.Run(); err != nil {
		return err
	}
	if err := m.optD.Update(m.dProg.Params(), m.dProg.Grads()); err != nil {
		return err
	}
	if c := float32(m.cfg.WeightClip); c > 0 {
		for _, p := range m.Net.DiscParams() {
			for i, v := range p.Data {
				p.Data[i] = min(c, max(-c, v))
			}
		}
	}
	return nil
}

// updateG is one generator step, then the generator's average moves.
func (m *GAN) updateG(step int64, rng *rand.Rand) error {
	m.fillStepInputs(m.gStep, step, rng)
	m.Net.PowerIteration()
	if err := m.gProg.Run(); err != nil {
		return err
	}
	if err := m.optG.Update(m.gProg.Params(), m.gProg.Grads()); err != nil {
		return err
	}
	m.lastG = [2]float64{m.gProg.Scalar(m.gStep.Loss), m.gProg.Scalar(m.gStep.DFake)}
	m.updateEMA()
	return nil
}

// updateEMA moves the generator's average toward its current tensors
// (models.UpdateAverage; Yazici et al. 2019 average the generator's weights).
func (m *GAN) updateEMA() {
	if m.ema != nil {
		models.UpdateAverage(m.ema, m.gen, m.cfg.EMADecay, m.optG.Steps-1)
	}
}
