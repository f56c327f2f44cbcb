package models

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// ganSection is the `gan:` section of the configuration.
type ganSection struct {
	LatentDim          int     `mapstructure:"latent_dim"`
	GHidden            []int   `mapstructure:"g_hidden"`
	DHidden            []int   `mapstructure:"d_hidden"`
	LeakySlope         float64 `mapstructure:"leaky_slope"`
	DDropout           float64 `mapstructure:"d_dropout"`
	Loss               string  `mapstructure:"loss"`
	LabelSmoothing     float64 `mapstructure:"label_smoothing"`
	NCritic            int     `mapstructure:"n_critic"`
	WeightClip         float64 `mapstructure:"weight_clip"`
	SpectralNorm       bool    `mapstructure:"spectral_norm"`
	InstanceNoise      float64 `mapstructure:"instance_noise"`
	InstanceNoiseSteps int     `mapstructure:"instance_noise_steps"`
	Conditional        bool    `mapstructure:"conditional"`
	DLR                float64 `mapstructure:"d_lr"`
	GLR                float64 `mapstructure:"g_lr"`
	EMADecay           float64 `mapstructure:"ema_decay"`
	SampleKeep         float64 `mapstructure:"sample_keep"`
	BaseChannels       int     `mapstructure:"base_channels"` // dcgan only
	DChannels          int     `mapstructure:"d_channels"`    // dcgan only
	Upsample           string  `mapstructure:"upsample"`      // dcgan only
	InfoCodes          int     `mapstructure:"info_codes"`    // dcgan only
	InfoWeight         float64 `mapstructure:"info_weight"`   // dcgan only
}

// GAN trains a generator/discriminator pair (the seed's MLP GAN or the
// DCGAN) with the seed's alternating updates.
type GAN struct {
	Net    nets.Adversarial
	name   string
	cfg    ganSection
	common config.Common

	dStep, gStep *nets.GANStep
	dProg, gProg *graphs.Program
	optD, optG   *train.Adam
	metrics      []train.Metric
	lastG        [2]float64 // the last generator step's loss and D(G(z))
	// ema is an exponential moving average of the generator's tensors
	// (named "ema.generator..."), which samples come from when ema_decay > 0.
	ema, gen []*graphs.Param
	// temp scales the sampling noise z ~ N(0, temp^2 I) (1 unless set):
	// the truncation trick's trade of diversity for fidelity (Brock et al.
	// 2019 truncate; scaling is the smooth version).
	temp float64
	// code is the one InfoGAN code that samples take, or -1 for the codes in
	// turn.
	code int
}

// CodeSampler is a model with an unsupervised categorical code (InfoGAN)
// whose samples can be asked for one value of it.
type CodeSampler interface {
	SetCode(k int) error
}

// SetCode implements CodeSampler: samples (not training) take code k.
func (m *GAN) SetCode(k int) error {
	codes := m.Net.Codes()
	if codes == 0 {
		return fmt.Errorf("the %s has no InfoGAN code: train a dcgan with dcgan.info_codes=10", m.name)
	}
	if k < 0 || k >= codes {
		return fmt.Errorf("the model's codes are 0 to %d, got %d", codes-1, k)
	}
	m.code = k
	return nil
}

// SetTemperature implements TemperatureSampler: samples (not training)
// draw z from N(0, t^2 I).
func (m *GAN) SetTemperature(t float64) error {
	if err := checkTemperature(t); err != nil {
		return err
	}
	m.temp = t
	return nil
}

func newGAN(cfg *config.Config, common config.Common) (Model, error) {
	s, err := decodeGANSection(cfg, "gan")
	if err != nil {
		return nil, err
	}
	size := imageSide(common)
	classes, err := ganClasses(s, common, "gan")
	if err != nil {
		return nil, err
	}
	net, err := nets.NewGAN(nets.GANConfig{
		LatentDim: s.LatentDim, ImageDim: size * size, GHidden: s.GHidden, DHidden: s.DHidden,
		Slope: s.LeakySlope, DDropout: s.DDropout, Classes: classes, SpectralNorm: s.SpectralNorm,
	}, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newGANModel(net, "gan", s, common), nil
}

func newDCGAN(cfg *config.Config, common config.Common) (Model, error) {
	s, err := decodeGANSection(cfg, "dcgan")
	if err != nil {
		return nil, err
	}
	if imageSide(common) != 28 {
		return nil, fmt.Errorf("config: the dcgan is built for 28x28 images; set data.image_size to 28")
	}
	classes, err := ganClasses(s, common, "dcgan")
	if err != nil {
		return nil, err
	}
	if s.InfoWeight < 0 { // info_codes is NewDCGAN's to check
		return nil, fmt.Errorf("config: dcgan.info_weight must not be negative, got %g", s.InfoWeight)
	}
	net, err := nets.NewDCGAN(nets.DCGANConfig{Latent: s.LatentDim, Base: s.BaseChannels, Slope: s.LeakySlope,
		Upsample: s.Upsample, SpectralNorm: s.SpectralNorm, Classes: classes, DiscBase: s.DChannels, DDropout: s.DDropout,
		Codes: s.InfoCodes, GHidden: s.GHidden, DHidden: s.DHidden}, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return newGANModel(net, "dcgan", s, common), nil
}

// ganClasses is the number of classes a GAN is conditioned on: 10 for a
// conditional GAN of MNIST, 0 otherwise.
func ganClasses(s ganSection, common config.Common, section string) (int, error) {
	if !s.Conditional {
		return 0, nil
	}
	if common.Data.Dataset != "mnist" {
		return 0, fmt.Errorf("config: %s.conditional needs labelled data (data.dataset mnist)", section)
	}
	return 10, nil
}

// newGANModel wraps a network, with the generator's average when asked.
func newGANModel(net nets.Adversarial, name string, s ganSection, common config.Common) *GAN {
	m := &GAN{Net: net, name: name, cfg: s, common: common, temp: 1, code: -1}
	if s.EMADecay > 0 {
		for _, p := range net.AllParams().List() {
			if strings.HasPrefix(p.Name, "generator.") {
				m.gen = append(m.gen, p)
				m.ema = append(m.ema, &graphs.Param{Name: "ema." + p.Name, Shape: p.Shape, Data: append([]float32(nil), p.Data...)})
			}
		}
	}
	return m
}

// decodeGANSection reads and checks the options shared by the GANs.
func decodeGANSection(cfg *config.Config, section string) (ganSection, error) {
	var s ganSection
	if err := cfg.Decode(section, &s); err != nil {
		return s, err
	}
	switch {
	case s.NCritic < 1:
		return s, fmt.Errorf("config: %s.n_critic must be at least 1, got %d", section, s.NCritic)
	case s.LabelSmoothing < 0 || s.LabelSmoothing >= 1:
		return s, fmt.Errorf("config: %s.label_smoothing must be in [0, 1), got %g", section, s.LabelSmoothing)
	case s.EMADecay < 0 || s.EMADecay >= 1:
		return s, fmt.Errorf("config: %s.ema_decay must be in [0, 1), got %g", section, s.EMADecay)
	case !(s.SampleKeep > 0 && s.SampleKeep <= 1):
		return s, fmt.Errorf("config: %s.sample_keep must be in (0, 1] (1: keep every sample), got %g", section, s.SampleKeep)
	case s.WeightClip < 0 || s.InstanceNoise < 0 || s.InstanceNoiseSteps < 0 || s.DLR < 0 || s.GLR < 0:
		return s, fmt.Errorf("config: %s.weight_clip, instance_noise, instance_noise_steps, d_lr and g_lr must not be negative", section)
	}
	switch s.Loss {
	case nets.LossBCE, nets.LossMinimax, nets.LossWGAN, nets.LossHinge:
	default:
		return s, fmt.Errorf("config: %s.loss %q is not bce, minimax, wgan or hinge", section, s.Loss)
	}
	return s, nil
}

// imageSide is the side of the square training images.
func imageSide(c config.Common) int {
	if c.Data.Dataset == "mnist" {
		return 28
	}
	return c.Data.ImageSize
}

// Params implements train.Trainable.
func (m *GAN) Params() []*graphs.Param { return append(m.Net.AllParams().List(), m.ema...) }

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
		m.optD = newAdam(d, m.Net.DiscParams())
		m.optG = newAdam(g, m.Net.GenParams())
	}
	return []checkpoint.Named{{Name: "discriminator", Optimizer: m.optD}, {Name: "generator", Optimizer: m.optG}}
}

func (m *GAN) build(batch int) error {
	opt := nets.GANStepOptions{Loss: m.cfg.Loss, LabelSmoothing: m.cfg.LabelSmoothing, InstanceNoise: m.cfg.InstanceNoise > 0, InfoWeight: m.cfg.InfoWeight}
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
	fillNormal(s.Z, rng)
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
	d := m.dStep
	for i, v := range b.X {
		d.Real[i] = 2*v - 1 // [0,1] -> [-1,1], the range of G's tanh
	}
	if d.OneHotReal != nil {
		if b.Labels == nil {
			return nil, fmt.Errorf("a conditional GAN needs labelled images")
		}
		clear(d.OneHotReal)
		for i, y := range b.Labels {
			d.OneHotReal[i*10+int(y)] = 1
		}
	}
	m.fillStepInputs(d, step, rng)
	m.Net.PowerIteration()
	if err := m.dProg.Run(); err != nil {
		return nil, err
	}
	if err := m.optD.Update(m.dProg.Params(), m.dProg.Grads()); err != nil {
		return nil, err
	}
	if c := float32(m.cfg.WeightClip); c > 0 {
		for _, p := range m.Net.DiscParams() {
			for i, v := range p.Data {
				p.Data[i] = min(c, max(-c, v))
			}
		}
	}
	if step%int64(m.cfg.NCritic) == int64(m.cfg.NCritic-1) {
		m.fillStepInputs(m.gStep, step, rng)
		m.Net.PowerIteration()
		if err := m.gProg.Run(); err != nil {
			return nil, err
		}
		if err := m.optG.Update(m.gProg.Params(), m.gProg.Grads()); err != nil {
			return nil, err
		}
		m.lastG = [2]float64{m.gProg.Scalar(m.gStep.Loss), m.gProg.Scalar(m.gStep.DFake)}
		m.updateEMA()
	}
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

// updateEMA moves the generator's average toward its current tensors
// (updateAverage; Yazici et al. 2019 average the generator's weights).
func (m *GAN) updateEMA() {
	if m.ema != nil {
		updateAverage(m.ema, m.gen, m.cfg.EMADecay, m.optG.Steps-1)
	}
}

// Samples implements train.Sampler: images from N(0, I) noise (for a
// conditional GAN, the classes in turn), mapped from [-1,1] to [0,1].
func (m *GAN) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.generate(n, -1, rng)
}

// generate draws n images of class k (k < 0: classes in turn). With
// sample_keep < 1 it is discriminator rejection sampling (after Azadi et al.
// 2019, without their recalibration of D): G draws n/sample_keep images and
// the n that D scores most real are kept, class by class.
func (m *GAN) generate(n, k int, rng *rand.Rand) (sample.Images, error) {
	keep := m.cfg.SampleKeep // in (0, 1], as decodeGANSection checks
	if keep == 1 || n == 0 {
		return m.render(n, k, rng)
	}
	pool, err := m.render(int(math.Ceil(float64(n)/keep)), k, rng)
	if err != nil {
		return sample.Images{}, err
	}
	scores, err := m.critic(pool, k)
	if err != nil {
		return sample.Images{}, err
	}
	return keepBest(pool, scores, n, m.classOf(k)), nil
}

// classOf says which class generate gives its i-th image: k, or with k < 0
// the classes in turn for a conditional model, the codes in turn for one
// with an InfoGAN code (so rejection sampling keeps the codes balanced), and
// 0 for a plain unconditional one.
func (m *GAN) classOf(k int) func(i int) int {
	width := m.oneHotWidth()
	return func(i int) int {
		switch {
		case width == 0:
			return 0
		case k >= 0:
			return k
		}
		return i % width
	}
}

// keepBest returns n of the pool's images, the best-scored of each class:
// the i-th result is the best image of class classOf(i) not yet taken.
func keepBest(pool sample.Images, scores []float32, n int, classOf func(int) int) sample.Images {
	byClass := map[int][]int{}
	for i := range pool.N {
		c := classOf(i)
		byClass[c] = append(byClass[c], i)
	}
	for _, idx := range byClass {
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	}
	dim := pool.H * pool.W
	out := sample.Images{N: n, H: pool.H, W: pool.W, Pix: make([]float32, n*dim)}
	for i := range n {
		c := classOf(i)
		j := byClass[c][0]
		byClass[c] = byClass[c][1:]
		copy(out.Pix[i*dim:(i+1)*dim], pool.Pix[j*dim:(j+1)*dim])
	}
	return out
}

// critic scores images in [0,1] by D's logit (evaluation mode), the i-th
// with the label generate gave it.
func (m *GAN) critic(imgs sample.Images, k int) ([]float32, error) {
	b, x, onehot, logits, err := nets.BuildGANCritic(m.Net, chunkSize)
	if err != nil {
		return nil, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{logits})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	classOf := m.classOf(k)
	dim := imgs.H * imgs.W
	scores := make([]float32, imgs.N)
	for lo := 0; lo < imgs.N; lo += chunkSize {
		rows := min(chunkSize, imgs.N-lo)
		clear(x)
		for i, v := range imgs.Pix[lo*dim : (lo+rows)*dim] {
			x[i] = 2*v - 1
		}
		if onehot != nil {
			fillClasses(onehot, m.Net.Classes(), lo, classOf) // rows past the images are ignored
		}
		if err := prog.Run(); err != nil {
			return nil, err
		}
		copy(scores[lo:lo+rows], prog.Value(logits)[:rows])
	}
	return scores, nil
}

// render draws n images of class k (k < 0: classes in turn) from G.
func (m *GAN) render(n, k int, rng *rand.Rand) (sample.Images, error) {
	if m.ema != nil {
		// The averaged tensors stand in for the generator's while the
		// sampling graph binds them, with standing statistics.
		for i, p := range m.gen {
			p.Data, m.ema[i].Data = m.ema[i].Data, p.Data
		}
		defer func() {
			for i, p := range m.gen {
				p.Data, m.ema[i].Data = m.ema[i].Data, p.Data
			}
		}()
		restore, err := m.standingStats()
		if err != nil {
			return sample.Images{}, err
		}
		defer restore()
	}
	b, z, onehot, out, err := nets.BuildGANGenerator(m.Net, chunkSize, false)
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{out})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	dim := imageSize(m.Net)
	side := imageSide(m.common)
	imgs := sample.Images{N: n, H: side, W: side, Pix: make([]float32, n*dim)}
	for lo := 0; lo < n; lo += chunkSize {
		fillNormal(z, rng)
		if m.temp != 1 {
			for i := range z {
				z[i] *= float32(m.temp)
			}
		}
		if onehot != nil {
			fillClasses(onehot, m.oneHotWidth(), lo, m.classOf(k))
		}
		if err := prog.Run(); err != nil {
			return sample.Images{}, err
		}
		rows := min(chunkSize, n-lo)
		for i, v := range prog.Value(out)[:rows*dim] {
			imgs.Pix[lo*dim+i] = (v + 1) / 2
		}
	}
	return imgs, nil
}

// standingStats sets the statistics of G's batch normalizations to their
// means over standingBatches batches of z ~ N(0, I), the "standing
// statistics" of BigGAN (Brock et al. 2019), for the weights now bound (the
// average's). The running statistics belong to the trained weights, not the
// average, and a batch's own statistics would make each image depend on the
// others of its batch and normalize a temperature away. The noise comes from
// a fixed seed, so samples depend on the caller's noise alone. restore puts
// the previous statistics back.
func (m *GAN) standingStats() (restore func(), err error) {
	norms := m.Net.GenNorms()
	var stats []*graphs.Param
	for _, bn := range norms {
		stats = append(stats, bn.RunningMean, bn.RunningVar, bn.NumBatchesTracked)
	}
	saved := snapshot(stats)
	restore = func() {
		for i, p := range stats {
			copy(p.Data, saved[i])
		}
	}
	if len(norms) == 0 {
		return restore, nil
	}
	momentum := norms[0].Momentum
	defer func() {
		for _, bn := range norms {
			bn.Momentum = momentum
		}
	}()
	b, z, onehot, out, err := nets.BuildGANGenerator(m.Net, chunkSize, true)
	if err != nil {
		return restore, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{out})
	if err != nil {
		return restore, err
	}
	defer prog.Close()
	rng := rand.New(rand.NewPCG(standingSeed, 0))
	width, classOf := m.oneHotWidth(), m.classOf(-1)
	for i := range standingBatches {
		for _, bn := range norms {
			bn.Momentum = 1 / float64(i+1) // the running value becomes the mean of the batches' values
		}
		fillNormal(z, rng)
		if onehot != nil {
			fillClasses(onehot, width, i*chunkSize, classOf)
		}
		if err := prog.Run(); err != nil {
			return restore, err
		}
	}
	return restore, nil
}

// fillClasses writes into dst, rows of width, the one-hot of image
// first+row's class.
func fillClasses(dst []float32, width, first int, classOf func(int) int) {
	clear(dst)
	for r := range len(dst) / width {
		dst[r*width+classOf(first+r)] = 1
	}
}

// snapshot copies the tensors' values.
func snapshot(ps []*graphs.Param) [][]float32 {
	out := make([][]float32, len(ps))
	for i, p := range ps {
		out[i] = slices.Clone(p.Data)
	}
	return out
}

// standingBatches batches of chunkSize images give the standing statistics,
// from noise of seed standingSeed.
const (
	standingBatches = 20
	standingSeed    = 0x5354414e // "STAN"
)

// chunkSize is the batch of sampling graphs.
const chunkSize = 100

// Kinds implements Model.
func (m *GAN) Kinds() []string { return []string{"prior"} }

// Draw implements Model.
func (m *GAN) Draw(req DrawRequest, _ *data.Dataset, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if req.Kind != "prior" {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("the %s draws %v, not %q", m.name, m.Kinds(), req.Kind)
	}
	if req.Class >= 0 && m.Net.Classes() == 0 {
		return sample.Images{}, sample.GridOptions{}, errNotConditional(m.name + " (trained without conditional: true)")
	}
	if req.Class >= m.Net.Classes() && req.Class >= 0 {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("--class %d: the model knows classes 0 to %d", req.Class, m.Net.Classes()-1)
	}
	k := req.Class
	if m.code >= 0 {
		k = m.code // a model with codes has no classes
	}
	imgs, err := m.generate(req.N, k, rng)
	opt := sample.DefaultGridOptions()
	if k < 0 {
		opt = m.GridOptions()
	}
	return imgs, opt, err
}

// Evaluate implements Model: a GAN has no likelihood; its figures are the
// evaluator's, of its samples.
func (m *GAN) Evaluate(test *data.Dataset, _ *rand.Rand) (Report, error) {
	return Report{Model: m.name, Notes: []string{"a GAN has no likelihood: see the evaluator's figures of its samples"}}, nil
}

// CheckEpoch implements train.EpochChecker: it names the failures of the game
// that the epoch's mean D outputs show.
func (m *GAN) CheckEpoch(ms []train.Metric) []string {
	if m.cfg.Loss != nets.LossBCE && m.cfg.Loss != nets.LossMinimax {
		return nil // critic values of WGAN and hinge have no fixed scale
	}
	get := func(name string) float64 {
		for _, x := range ms {
			if x.Name == name {
				return x.Value
			}
		}
		return 0.5
	}
	dx, dgz := get("d_x"), get("d_g_z1")
	var warnings []string
	if dx > 0.95 && dgz < 0.05 {
		warnings = append(warnings, fmt.Sprintf("the discriminator wins (mean D(x) %.3f, D(G(z)) %.3f): the generator's gradient vanishes; try %[3]s.label_smoothing=0.1, %[3]s.instance_noise=0.1 or %[3]s.spectral_norm=true", dx, dgz, m.name))
	}
	if dx < 0.2 && dgz > 0.8 {
		warnings = append(warnings, fmt.Sprintf("the game diverged (mean D(x) %.3f, D(G(z)) %.3f): D calls generated images real and real ones fake", dx, dgz))
	}
	if spread, err := m.sampleSpread(); err == nil && spread < 0.05 {
		warnings = append(warnings, fmt.Sprintf("mode collapse: 64 samples from different noise differ by a mean pixel std of %.3f (MNIST: about 0.3)", spread))
	}
	return warnings
}

// sampleSpread is the mean over pixels of the standard deviation across 64
// samples: near zero when G maps all noise to one image.
func (m *GAN) sampleSpread() (float64, error) {
	imgs, err := m.render(64, -1, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return 0, err
	}
	d := imgs.H * imgs.W
	var total float64
	for p := 0; p < d; p++ {
		var s, s2 float64
		for i := 0; i < imgs.N; i++ {
			v := float64(imgs.Pix[i*d+p])
			s += v
			s2 += v * v
		}
		mean := s / float64(imgs.N)
		total += math.Sqrt(math.Max(0, s2/float64(imgs.N)-mean*mean))
	}
	return total / float64(d), nil
}

// Classes implements ClassSampler: the number of classes of a conditional
// GAN (0 when it is not conditional).
func (m *GAN) Classes() int { return m.Net.Classes() }

// SamplesOfClass implements ClassSampler.
func (m *GAN) SamplesOfClass(n, k int, rng *rand.Rand) (sample.Images, error) {
	return m.generate(n, k, rng)
}

// imageSize is the number of pixels of one image of the pair.
func imageSize(net nets.Adversarial) int {
	n := 1
	for _, d := range net.ImageShape(1) {
		n *= d
	}
	return n
}

// GridOptions lays out sample grids: a conditional model draws the classes
// (an InfoGAN model its codes) in turn, so its grid has one per column.
func (m *GAN) GridOptions() sample.GridOptions {
	opt := sample.DefaultGridOptions()
	if w := m.oneHotWidth(); w > 0 {
		opt.NRow = w
	}
	return opt
}
