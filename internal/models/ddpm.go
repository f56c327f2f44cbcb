package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/diffusion"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// ddpmSection is the `ddpm:` section of the configuration.
type ddpmSection struct {
	scheduleSection `mapstructure:",squash"`
	Channels        int     `mapstructure:"channels"`
	TimeEmbed       int     `mapstructure:"time_embed"`
	Groups          int     `mapstructure:"groups"`
	EMADecay        float64 `mapstructure:"ema_decay"`
	GridSteps       int     `mapstructure:"grid_steps"`
	Conditional     bool    `mapstructure:"conditional"`
	ClassDropout    float64 `mapstructure:"class_dropout"`
	Sampler         string  `mapstructure:"sampler"`
	Steps           int     `mapstructure:"sample_steps"`
	Eta             float64 `mapstructure:"eta"`
}

// DDPM trains a UNet to predict noise and samples with the DDPM and DDIM
// reverse processes.
type DDPM struct {
	Net    *nets.UNet
	EMA    *nets.UNet // the averaged weights, "ema."-prefixed in checkpoints
	Sched  *diffusion.Schedule
	cfg    ddpmSection
	common config.Common

	sampling SampleOptions    // what Samples uses: the epoch grid's DDIM until SetSampling
	guide    *NoisyClassifier // classifier guidance's classifier, once set

	trainG  *nets.NoiseGraph
	prog    *graphs.Program
	opt     *train.Adam
	ts      []int
	x0      []float32
	metrics []train.Metric
}

func newDDPM(cfg *config.Config, common config.Common) (Model, error) {
	var s ddpmSection
	if err := cfg.Decode("ddpm", &s); err != nil {
		return nil, err
	}
	if imageSide(common) != 28 {
		return nil, fmt.Errorf("config: UNet-S is built for 28x28 images; set data.image_size to 28")
	}
	if s.EMADecay < 0 || s.EMADecay >= 1 {
		return nil, fmt.Errorf("config: ddpm.ema_decay must be in [0, 1), got %g", s.EMADecay)
	}
	if s.GridSteps < 1 || s.GridSteps > s.Timesteps {
		return nil, fmt.Errorf("config: ddpm.grid_steps must be between 1 and ddpm.timesteps (%d), got %d", s.Timesteps, s.GridSteps)
	}
	sched, err := s.build()
	if err != nil {
		return nil, err
	}
	if s.ClassDropout < 0 || s.ClassDropout >= 1 {
		return nil, fmt.Errorf("config: ddpm.class_dropout must be in [0, 1), got %g", s.ClassDropout)
	}
	ucfg := nets.UNetConfig{Ch: s.Channels, TEmb: s.TimeEmbed, Groups: s.Groups}
	if s.Conditional {
		if common.Data.Dataset != "mnist" {
			return nil, fmt.Errorf("config: ddpm.conditional needs labelled data (data.dataset mnist)")
		}
		ucfg.Classes = 10
	}
	net, err := nets.NewUNet(ucfg, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	m := &DDPM{Net: net, Sched: sched, cfg: s, common: common}
	if _, err := m.resolve(m.ConfiguredSampling()); err != nil {
		return nil, fmt.Errorf("config: ddpm.%w", err)
	}
	m.sampling = SampleOptions{Sampler: SamplerDDIM, Steps: s.GridSteps}
	if s.EMADecay > 0 {
		m.EMA, _ = nets.NewUNet(ucfg, InitRNG(common.Seed))
		m.EMA.Params.Prefix("ema.")
	}
	return m, nil
}

// Params implements train.Trainable: the network's state_dict, then the EMA's.
func (m *DDPM) Params() []*graphs.Param {
	ps := m.Net.Params.List()
	if m.EMA != nil {
		ps = append(ps, m.EMA.Params.List()...)
	}
	return ps
}

// Optimizers implements train.Trainable.
func (m *DDPM) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = newAdam(m.common.Train, m.Net.Params.List())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

// TrainStep implements train.Trainable: uniform timesteps, Gaussian noise,
// one Adam step on the simple loss, then the EMA update.
func (m *DDPM) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
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
		m.ts, m.x0 = make([]int, b.Size), make([]float32, len(b.X))
	}
	ng := m.trainG
	for i := range m.ts {
		m.ts[i] = rng.IntN(m.Sched.T())
	}
	for i, v := range b.X {
		m.x0[i] = 2*v - 1
	}
	fillNormal(ng.Eps, rng)
	m.Sched.QSample(ng.XT, m.x0, ng.Eps, m.ts, b.H*b.W)
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
	if m.opt.Config.GradClip > 0 {
		m.metrics = append(m.metrics, train.Metric{Name: "grad_norm", Value: m.opt.LastGradNorm})
	}
	return m.metrics, nil
}

// updateEMA moves the averaged weights toward the trained ones
// (updateAverage). n is the optimizer's step count, so a resumed run
// continues the sequence.
func (m *DDPM) updateEMA() {
	if m.EMA != nil {
		updateAverage(m.EMA.Params.List(), m.Net.Params.List(), m.cfg.EMADecay, m.opt.Steps-1)
	}
}

// sampler returns the network samples come from: the EMA when there is one.
func (m *DDPM) sampler() *nets.UNet {
	if m.EMA != nil {
		return m.EMA
	}
	return m.Net
}

// Samples implements train.Sampler with the current sampling options: DDIM
// (eta 0) in grid_steps steps for the training loop's epoch grids, or what
// SetSampling chose (`genmodel sample` and `eval`).
func (m *DDPM) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.generate(n, -1, m.sampling, rng)
}

// Classes implements ClassSampler: 10 for a conditional network or once a
// guidance classifier is set, else 0.
func (m *DDPM) Classes() int {
	if m.Net.Classes > 0 || m.guide != nil {
		return 10
	}
	return 0
}

// SamplesOfClass implements ClassSampler with the current sampling options
// (a conditional network without guidance samples eps(x_t, k) as it is).
func (m *DDPM) SamplesOfClass(n, k int, rng *rand.Rand) (sample.Images, error) {
	if m.Classes() == 0 {
		return sample.Images{}, errNotConditional("ddpm (trained without conditional: true, and no --guidance classifier)")
	}
	if k < 0 || k >= 10 {
		return sample.Images{}, fmt.Errorf("--class %d: the model knows classes 0 to 9", k)
	}
	if m.sampling.Guidance == GuidanceClassifier && m.guide == nil {
		return sample.Images{}, fmt.Errorf("--guidance classifier needs --classifier PATH")
	}
	return m.generate(n, k, m.sampling, rng)
}

// The kinds of guidance (`genmodel sample --guidance`).
const (
	GuidanceClassifier = "classifier" // Dhariwal & Nichol 2021, with the sqrt(1 - abar_t) factor
	GuidanceCFG        = "cfg"        // classifier-free, Ho & Salimans 2022
)

// SetGuidanceClassifier sets the classifier of classifier guidance; its
// noise schedule must be the model's.
func (m *DDPM) SetGuidanceClassifier(c *NoisyClassifier) error {
	if len(c.Sched.ABar) != len(m.Sched.ABar) {
		return fmt.Errorf("the classifier was trained for %d timesteps, the ddpm has %d", len(c.Sched.ABar), len(m.Sched.ABar))
	}
	for i, a := range c.Sched.ABar {
		if math.Abs(a-m.Sched.ABar[i]) > 1e-9 {
			return fmt.Errorf("the classifier's noise schedule differs from the ddpm's at t = %d: train it with the ddpm's diffusion settings", i)
		}
	}
	m.guide = c
	return nil
}

// The reverse processes `genmodel sample --sampler` names.
const (
	SamplerDDPM = "ddpm" // ancestral, sigma_t^2 = beta_t, every timestep
	SamplerDDIM = "ddim"
)

// SampleOptions chooses a reverse process.
type SampleOptions struct {
	// Sampler is SamplerDDPM, SamplerDDIM or "" (DDPM when Steps is T or 0,
	// else DDIM).
	Sampler string
	Steps   int     // timesteps visited (0: all T); the ancestral sampler visits all
	Eta     float64 // DDIM: 0 deterministic, 1 the DDPM posterior's noise
	// Progress, when set, is called with the number of reverse steps of
	// each batch and returns the function called after each step.
	Progress func(steps int) func()
	// Record, when set, is called with x_t before each step i at timestep t
	// and once more with the result (i = steps, t = -1).
	Record func(i, t int, x []float32)
	// Guidance is "", GuidanceClassifier or GuidanceCFG, with strength Scale;
	// it applies to samples of a class.
	Guidance string
	Scale    float64
}

// DiffusionSampler is implemented by diffusion models, whose samples depend
// on a choice of reverse process.
type DiffusionSampler interface {
	// ConfiguredSampling is the config's choice (ddpm.sampler, sample_steps, eta).
	ConfiguredSampling() SampleOptions
	// SetSampling validates and resolves o and uses it from then on.
	SetSampling(o SampleOptions) error
}

// ConfiguredSampling implements DiffusionSampler.
func (m *DDPM) ConfiguredSampling() SampleOptions {
	return SampleOptions{Sampler: m.cfg.Sampler, Steps: m.cfg.Steps, Eta: m.cfg.Eta}
}

// SetSampling implements DiffusionSampler.
func (m *DDPM) SetSampling(o SampleOptions) error {
	r, err := m.resolve(o)
	if err != nil {
		return err
	}
	m.sampling = r
	return nil
}

// Sampling returns the sampling options in use, resolved.
func (m *DDPM) Sampling() SampleOptions { return m.sampling }

// resolve checks o and fills in Sampler "" and Steps 0.
func (m *DDPM) resolve(o SampleOptions) (SampleOptions, error) {
	T := m.Sched.T()
	if o.Steps == 0 {
		o.Steps = T
	}
	switch {
	case o.Steps < 1 || o.Steps > T:
		return o, fmt.Errorf("sample_steps %d: choose 1 to T = %d", o.Steps, T)
	case o.Eta < 0:
		return o, fmt.Errorf("eta must not be negative, got %g", o.Eta)
	case o.Scale < 0:
		return o, fmt.Errorf("the guidance scale must not be negative, got %g", o.Scale)
	}
	switch o.Guidance {
	case "", "none":
		o.Guidance = ""
	case GuidanceClassifier:
	case GuidanceCFG:
		if m.Net.Classes == 0 {
			return o, fmt.Errorf("guidance cfg needs a ddpm trained with conditional: true")
		}
	default:
		return o, fmt.Errorf("guidance %q is not %s or %s", o.Guidance, GuidanceClassifier, GuidanceCFG)
	}
	switch o.Sampler {
	case "":
		o.Sampler = SamplerDDIM
		if o.Steps == T {
			o.Sampler = SamplerDDPM
		}
	case SamplerDDPM:
		if o.Steps != T {
			return o, fmt.Errorf("sampler ddpm visits all %d timesteps; for %d steps use ddim", T, o.Steps)
		}
	case SamplerDDIM:
	default:
		return o, fmt.Errorf("sampler %q is not %s or %s", o.Sampler, SamplerDDPM, SamplerDDIM)
	}
	return o, nil
}

// generate draws n images of class k (k < 0: unconditional) in chunks of
// at most ddpmChunk.
func (m *DDPM) generate(n, k int, opt SampleOptions, rng *rand.Rand) (sample.Images, error) {
	if k < 0 {
		opt.Guidance = "" // nothing to steer toward: skip CFG's second pass
	}
	imgs := sample.Images{N: n, H: 28, W: 28, Pix: make([]float32, n*784)}
	var rev *ReverseProcess
	for lo := 0; lo < n; lo += ddpmChunk {
		rows := min(ddpmChunk, n-lo)
		if rev == nil || rev.Batch != rows {
			var err error
			if rev, err = m.newReverseProcess(rows, opt); err != nil {
				return sample.Images{}, err
			}
		}
		rev.Class = k
		x, err := rev.Run(opt, rng)
		if err != nil {
			return sample.Images{}, err
		}
		for i, v := range x {
			imgs.Pix[lo*784+i] = min(1, max(0, (v+1)/2))
		}
	}
	return imgs, nil
}

// ddpmChunk is the batch of sampling graphs.
const ddpmChunk = 100

// ReverseProcess runs the sampling network, and a guidance classifier, on
// compiled graphs of one batch size.
type ReverseProcess struct {
	Batch int
	Class int // the class asked for, -1 for none
	m     *DDPM
	opt   SampleOptions
	x     []float32 // the batch being denoised
	eps   []float32 // the last (guided) noise prediction
	ts    []int

	net     *nets.NoiseGraph // batch Batch, or 2 Batch for classifier-free guidance
	netProg *graphs.Program
	cls     *nets.NoisyClassifierGraph // classifier guidance
	clsProg *graphs.Program
}

// NewReverseProcess compiles the sampling network for batch images with the
// current sampling options.
func (m *DDPM) NewReverseProcess(batch int) (*ReverseProcess, error) {
	return m.newReverseProcess(batch, m.sampling)
}

func (m *DDPM) newReverseProcess(batch int, opt SampleOptions) (*ReverseProcess, error) {
	r := &ReverseProcess{Batch: batch, Class: -1, m: m, opt: opt,
		x: make([]float32, batch*784), eps: make([]float32, batch*784)}
	rows := batch
	if opt.Guidance == GuidanceCFG {
		rows = 2 * batch // conditional and unconditional predictions in one pass
	}
	r.ts = make([]int, rows)
	var err error
	if r.net, err = nets.BuildNoiseGraph(m.sampler(), rows, false); err != nil {
		return nil, err
	}
	if r.netProg, err = graphs.Compile(r.net.Bound, nil, graphs.Outputs{r.net.Pred}); err != nil {
		return nil, err
	}
	if opt.Guidance == GuidanceClassifier {
		if r.cls, err = m.guide.Net.BuildGraph(batch, true); err != nil {
			return nil, err
		}
		if r.clsProg, err = graphs.CompileWRT(r.cls.Bound, r.cls.LogProb, graphs.Outputs{r.cls.LogProb}, []*graphs.Param{r.cls.Image}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Eps predicts the noise of the current x_t (r.X()) at timestep t, guided
// toward r.Class as the options say:
//
//	classifier: eps - scale sqrt(1 - abar_t) grad_x log p(class | x_t, t)
//	cfg:        (1 + scale) eps(x_t, class) - scale eps(x_t)  (Ho & Salimans 2022)
func (r *ReverseProcess) Eps(t int) ([]float32, error) {
	m, n := r.m, r.Batch*784
	classes := m.sampler().Classes
	guided := r.Class >= 0 && r.opt.Guidance != ""
	if guided && (r.Class >= 10 || (classes > 0 && r.Class >= classes)) {
		return nil, fmt.Errorf("class %d: the model knows classes 0 to 9", r.Class)
	}
	for i := range r.ts {
		r.ts[i] = t
	}
	copy(r.net.XT, r.x)
	layers.TimestepEmbedding(r.net.TSin, r.ts, m.sampler().Ch)
	if classes > 0 {
		// Rows of the conditional half ask for the class (the null row
		// when there is none); classifier-free guidance's second half is
		// the unconditional prediction.
		clear(r.net.OneHot)
		for i := range r.ts {
			c := classes
			if i < r.Batch && r.Class >= 0 {
				c = r.Class
			}
			r.net.OneHot[i*(classes+1)+c] = 1
		}
	}
	if r.opt.Guidance == GuidanceCFG {
		copy(r.net.XT[n:], r.x)
	}
	if err := r.netProg.Run(); err != nil {
		return nil, err
	}
	pred := r.netProg.Value(r.net.Pred)
	if r.opt.Guidance == GuidanceCFG && r.Class >= 0 {
		w := float32(r.opt.Scale)
		for i := range r.eps {
			r.eps[i] = (1+w)*pred[i] - w*pred[n+i]
		}
	} else {
		copy(r.eps, pred[:n])
	}
	if r.opt.Guidance == GuidanceClassifier && r.Class >= 0 {
		copy(r.cls.XT, r.x)
		layers.TimestepEmbedding(r.cls.TSin, r.ts[:r.Batch], nets.NoisyClassifierTimeDim)
		clear(r.cls.OneHot)
		for i := range r.Batch {
			r.cls.OneHot[i*10+r.Class] = 1
		}
		if err := r.clsProg.Run(); err != nil {
			return nil, err
		}
		// The gradient of sum_i log p(y | x_i, t) is each image's own.
		grad := r.clsProg.Grads()[0]
		k := float32(r.opt.Scale * math.Sqrt(1-m.Sched.ABar[t]))
		for i, g := range grad {
			r.eps[i] -= k * g
		}
	}
	return r.eps, nil
}

// X is the batch being denoised, (Batch, 1, 28, 28) in [-1, 1] at the end.
func (r *ReverseProcess) X() []float32 { return r.x }

// Run starts from N(0, I) and runs the whole reverse process.
func (r *ReverseProcess) Run(opt SampleOptions, rng *rand.Rand) ([]float32, error) {
	x := r.X()
	fillNormal(x, rng)
	s := r.m.Sched
	var ts []int
	switch opt.Sampler {
	case SamplerDDPM:
		ts = diffusion.DDIMTimesteps(s.T(), s.T())
	case SamplerDDIM:
		ts = diffusion.DDIMTimesteps(s.T(), opt.Steps)
	default:
		return nil, fmt.Errorf("sampler %q is not %s or %s", opt.Sampler, SamplerDDPM, SamplerDDIM)
	}
	tick := func() {}
	if opt.Progress != nil {
		tick = opt.Progress(len(ts))
	}
	for i, t := range ts {
		if opt.Record != nil {
			opt.Record(i, t, x)
		}
		eps, err := r.Eps(t)
		if err != nil {
			return nil, err
		}
		if opt.Sampler == SamplerDDPM {
			s.AncestralStep(x, eps, t, rng)
		} else {
			prev := -1
			if i+1 < len(ts) {
				prev = ts[i+1]
			}
			s.DDIMStep(x, eps, t, prev, opt.Eta, rng)
		}
		tick()
	}
	if opt.Record != nil {
		opt.Record(len(ts), -1, x)
	}
	return x, nil
}

// Trajectory runs n reverse processes with the current sampling options
// and returns x_t at `columns` steps evenly spread over each chain (the last
// column the sample), a row per chain: the seed's reverse-process diagram.
func (m *DDPM) Trajectory(n, columns int, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if n < 1 || columns < 2 {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("a trajectory needs at least 1 row and 2 columns")
	}
	opt := m.sampling
	rev, err := m.newReverseProcess(n, opt)
	if err != nil {
		return sample.Images{}, sample.GridOptions{}, err
	}
	steps := opt.Steps
	if opt.Sampler == SamplerDDPM {
		steps = m.Sched.T()
	}
	at := map[int]int{} // step index -> column
	for c := range columns {
		at[c*steps/(columns-1)] = c
	}
	imgs := sample.Images{N: n * columns, H: 28, W: 28, Pix: make([]float32, n*columns*784)}
	opt.Record = func(i, _ int, x []float32) {
		c, ok := at[i]
		if !ok {
			return
		}
		for r := range n {
			copy(imgs.Pix[(r*columns+c)*784:][:784], x[r*784:(r+1)*784])
		}
	}
	if _, err := rev.Run(opt, rng); err != nil {
		return sample.Images{}, sample.GridOptions{}, err
	}
	return imgs, trajectoryGrid(columns), nil
}

// ForwardProcess returns q(x_t | x_0) for the first n test images at
// `columns` timesteps evenly spread from 0 to T-1, a row per image: the
// seed's forward-process diagram.
func (m *DDPM) ForwardProcess(test *data.Dataset, n, columns int, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if test == nil || test.N < n || columns < 2 {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("the forward picture needs %d test images and 2 columns", n)
	}
	T := m.Sched.T()
	imgs := sample.Images{N: n * columns, H: 28, W: 28, Pix: make([]float32, n*columns*784)}
	x0, eps := make([]float32, 784), make([]float32, 784)
	for r := range n {
		for i, v := range test.Image(r) {
			x0[i] = 2*v - 1
		}
		for c := range columns {
			fillNormal(eps, rng)
			t := c * (T - 1) / (columns - 1)
			m.Sched.QSample(imgs.Pix[(r*columns+c)*784:][:784], x0, eps, []int{t}, 784)
		}
	}
	return imgs, trajectoryGrid(columns), nil
}

// trajectoryGrid lays out pictures of x_t, which live in [-1, 1], a row per chain.
func trajectoryGrid(columns int) sample.GridOptions {
	opt := sample.DefaultGridOptions()
	opt.NRow, opt.Lo, opt.Hi = columns, -1, 1
	return opt
}

// Kinds implements Model.
func (m *DDPM) Kinds() []string { return []string{"prior"} }

// Draw implements Model: DDIM samples as the per-epoch grid draws them.
func (m *DDPM) Draw(req DrawRequest, _ *data.Dataset, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if req.Kind != "prior" {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("the ddpm draws %v, not %q", m.Kinds(), req.Kind)
	}
	if req.Class >= 0 {
		imgs, err := m.SamplesOfClass(req.N, req.Class, rng)
		return imgs, sample.DefaultGridOptions(), err
	}
	imgs, err := m.Samples(req.N, rng)
	return imgs, sample.DefaultGridOptions(), err
}

// NLLBitsPerDim estimates the DDPM variational bound L_vlb (Ho et al.
// 2020, eq. 5, with the discretized decoder) in bits/dim on the first n
// test images (a fixed subset), with the sampling weights: one draw of x_t
// per image and timestep, so T network evaluations per batch.
func (m *DDPM) NLLBitsPerDim(test *data.Dataset, n int, rng *rand.Rand) (float64, int, error) {
	if test.H*test.W != 784 {
		return 0, 0, fmt.Errorf("the ddpm models 28x28 images, the test images are %dx%d", test.H, test.W)
	}
	n = min(n, test.N)
	if n < 1 {
		return 0, 0, fmt.Errorf("no test images for the bound")
	}
	s := m.Sched
	var total float64
	var r *ReverseProcess
	for lo := 0; lo < n; lo += ddpmChunk {
		rows := min(ddpmChunk, n-lo)
		if r == nil || r.Batch != rows {
			var err error
			if r, err = m.newReverseProcess(rows, SampleOptions{}); err != nil {
				return 0, 0, err
			}
		}
		x0 := make([]float32, rows*784)
		for i, v := range test.Pixels[lo*784 : (lo+rows)*784] {
			x0[i] = 2*v - 1
		}
		noise := make([]float32, len(x0))
		for i := range rows {
			total += s.PriorKL(x0[i*784 : (i+1)*784])
		}
		for t := s.T() - 1; t >= 0; t-- {
			fillNormal(noise, rng)
			s.QSample(r.X(), x0, noise, constInts(rows, t), 784)
			xt := r.X() // Eps reads x_t without changing it
			eps, err := r.Eps(t)
			if err != nil {
				return 0, 0, err
			}
			for i := range rows {
				a, b := i*784, (i+1)*784
				if t == 0 {
					total += s.DecoderNLL(x0[a:b], xt[a:b], eps[a:b])
				} else {
					total += s.StepKL(x0[a:b], xt[a:b], eps[a:b], t)
				}
			}
		}
	}
	return total / float64(n) / (784 * math.Ln2), n, nil
}

func constInts(n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Evaluate implements Model: a DDPM's figures are the evaluator's, of its samples.
func (m *DDPM) Evaluate(*data.Dataset, *rand.Rand) (Report, error) {
	return Report{Model: "ddpm", Notes: []string{"see the evaluator's figures of its samples"}}, nil
}
