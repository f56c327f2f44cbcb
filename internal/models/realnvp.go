package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// realnvpSection is the `realnvp:` section of the configuration.
type realnvpSection struct {
	Layers      int     `mapstructure:"layers"`
	Hidden      int     `mapstructure:"hidden"`
	Alpha       float64 `mapstructure:"alpha"`
	Temperature float64 `mapstructure:"temperature"`
}

// RealNVP trains graphs.RealNVP by exact maximum likelihood.
type RealNVP struct {
	Net    *graphs.RealNVP
	cfg    realnvpSection
	common config.Common
	pre    logitTransform
	side   int

	g       *graphs.FlowGraph
	prog    *graphs.Program
	opt     *train.Adam
	logDet  []float64
	metrics []train.Metric
}

func newRealNVP(cfg *config.Config, common config.Common) (Model, error) {
	var s realnvpSection
	if err := cfg.Decode("realnvp", &s); err != nil {
		return nil, err
	}
	if s.Alpha <= 0 || s.Alpha >= 0.5 {
		return nil, fmt.Errorf("config: realnvp.alpha must be in (0, 0.5), got %g", s.Alpha)
	}
	if err := checkTemperature(s.Temperature); err != nil {
		return nil, fmt.Errorf("config: realnvp.%w", err)
	}
	if common.Data.Binarize {
		return nil, fmt.Errorf("config: a flow models 256 grey levels; set data.binarize to false")
	}
	side := imageSide(common)
	net, err := graphs.NewRealNVP(side*side, s.Hidden, s.Layers, InitRNG(common.Seed))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &RealNVP{Net: net, cfg: s, common: common, pre: logitTransform{s.Alpha}, side: side}, nil
}

// Params implements train.Trainable: the state_dict, mask buffers included.
func (m *RealNVP) Params() []*graphs.Param { return m.Net.Params.List() }

// Optimizers implements train.Trainable.
func (m *RealNVP) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = newAdam(m.common.Train, m.Net.Trainable())
	}
	return []checkpoint.Named{{Name: "adam", Optimizer: m.opt}}
}

func (m *RealNVP) graph(batch int) error {
	if m.g != nil && len(m.logDet) == batch {
		return nil
	}
	if err := m.Net.CheckMasks(); err != nil {
		return err
	}
	g, err := m.Net.BuildNLL(batch)
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(g.Bound, g.Loss, graphs.Outputs{g.Loss, g.NLL})
	if err != nil {
		return err
	}
	m.g, m.prog, m.logDet = g, prog, make([]float64, batch)
	return nil
}

// TrainStep implements train.Trainable: one Adam step on the mean negative
// log-likelihood; the reported loss is in bits/dim.
func (m *RealNVP) TrainStep(b train.Batch, step int64, rng *rand.Rand) ([]train.Metric, error) {
	if err := m.graph(b.Size); err != nil {
		return nil, err
	}
	m.pre.forward(m.g.X, b.X, m.Net.D, rng, m.logDet)
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
	nll := m.prog.Scalar(m.g.Loss) - ld/float64(b.Size)
	m.metrics = append(m.metrics[:0], train.Metric{Name: "bits_per_dim", Value: bitsPerDim(nll, m.Net.D)})
	return m.metrics, nil
}

// testBitsPerDim is the exact test-set negative log-likelihood in bits/dim,
// with dequantization noise from a fixed seed, over every test image.
func (m *RealNVP) testBitsPerDim(test *data.Dataset) (float64, error) {
	if test.H*test.W != m.Net.D {
		return 0, fmt.Errorf("the flow models %d pixels, the test images have %d", m.Net.D, test.H*test.W)
	}
	batch := max(1, min(m.common.Eval.BatchSize, test.N))
	g, err := m.Net.BuildNLL(batch)
	if err != nil {
		return 0, err
	}
	prog, err := graphs.Compile(g.Bound, nil, graphs.Outputs{g.NLL})
	if err != nil {
		return 0, err
	}
	defer prog.Close()
	rng := rand.New(rand.NewPCG(0x44455155, 0x414e54)) // "DEQUANT": the same noise for every model
	logDet := make([]float64, batch)
	var total float64
	done := 0
	for lo := 0; lo+batch <= test.N; lo += batch {
		m.pre.forward(g.X, test.Pixels[lo*m.Net.D:(lo+batch)*m.Net.D], m.Net.D, rng, logDet)
		if err := prog.Run(); err != nil {
			return 0, err
		}
		total += prog.Scalar(g.NLL)
		for _, v := range logDet {
			total -= v
		}
		done += batch
	}
	if done == 0 {
		return 0, fmt.Errorf("no test images")
	}
	return bitsPerDim(total/float64(done), m.Net.D), nil
}

// TestMetrics implements train.TestEvaluator.
func (m *RealNVP) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	bpd, err := m.testBitsPerDim(test)
	if err != nil {
		return nil, err
	}
	return []train.Metric{{Name: "bits_per_dim", Value: bpd}}, nil
}

// Evaluate implements Model.
func (m *RealNVP) Evaluate(test *data.Dataset, _ *rand.Rand) (Report, error) {
	bpd, err := m.testBitsPerDim(test)
	if err != nil {
		return Report{}, err
	}
	n := test.N / max(1, min(m.common.Eval.BatchSize, test.N)) * max(1, min(m.common.Eval.BatchSize, test.N))
	return Report{Model: "realnvp", Images: n, Metrics: []train.Metric{{Name: "bits_per_dim", Value: bpd}},
		Notes: []string{"bits_per_dim: exact test negative log-likelihood of the 256-level images (uniform dequantization with a fixed seed, logit and 1/256 Jacobians included)"}}, nil
}

// SetTemperature implements TemperatureSampler.
func (m *RealNVP) SetTemperature(t float64) error {
	if err := checkTemperature(t); err != nil {
		return err
	}
	m.cfg.Temperature = t
	return nil
}

// Samples implements train.Sampler at the configured temperature.
func (m *RealNVP) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.samplesAt(n, m.cfg.Temperature, rng)
}

func (m *RealNVP) samplesAt(n int, temp float64, rng *rand.Rand) (sample.Images, error) {
	chunk := min(n, 100)
	b, z, x, err := m.Net.BuildInverse(chunk)
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{x})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	d := m.Net.D
	imgs := sample.Images{N: n, H: m.side, W: m.side, Pix: make([]float32, n*d)}
	for lo := 0; lo < n; lo += chunk {
		for i := range z {
			z[i] = float32(temp * rng.NormFloat64())
		}
		if err := prog.Run(); err != nil {
			return sample.Images{}, err
		}
		rows := min(chunk, n-lo)
		m.pre.inverse(imgs.Pix[lo*d:(lo+rows)*d], prog.Value(x)[:rows*d])
	}
	return imgs, nil
}

// Kinds implements Model: samples, or rows of samples at temperatures 0.5 to 1.
func (m *RealNVP) Kinds() []string { return []string{"prior", "temperatures"} }

// Draw implements Model.
func (m *RealNVP) Draw(req DrawRequest, _ *data.Dataset, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if req.Class >= 0 {
		return sample.Images{}, sample.GridOptions{}, errNotConditional("realnvp")
	}
	switch req.Kind {
	case "prior":
		imgs, err := m.Samples(req.N, rng)
		return imgs, sample.DefaultGridOptions(), err
	case "temperatures":
		per := max(1, int(math.Ceil(float64(req.N)/float64(len(gridTemperatures)))))
		return temperatureGrid(per, func(n int, t float64) (sample.Images, error) { return m.samplesAt(n, t, rng) })
	}
	return sample.Images{}, sample.GridOptions{}, fmt.Errorf("the realnvp draws %v, not %q", m.Kinds(), req.Kind)
}
