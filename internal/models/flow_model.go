package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// flowNet is what the flow adapter needs of a normalizing flow's network.
type flowNet interface {
	params() []*graphs.Param    // the checkpoint's tensors, buffers included
	trainable() []*graphs.Param // what Adam updates
	dims() int                  // pixels per image
	// nll builds -log p(x) of a batch in the flow's input space; init lets
	// data-dependent initializations run on the graph's first run.
	nll(batch int, init bool) (x []float32, b *graphs.Bound, nllSum, loss *G.Node, err error)
	// sampler builds the inverse for a batch: draw fills the latents at a
	// temperature, out is the image in the flow's input space.
	sampler(batch int) (b *graphs.Bound, draw func(t float64, rng *rand.Rand) error, out *G.Node, err error)
}

// Flow trains a normalizing flow by exact maximum likelihood on dequantized,
// logit-transformed images and reports bits/dim.
type Flow struct {
	name   string
	net    flowNet
	common config.Common
	pre    logitTransform
	side   int
	temp   float64
	// nonFinite counts samples whose inverse produced NaN pixels.
	nonFinite int

	x       []float32
	prog    *graphs.Program
	loss    *G.Node
	opt     *train.Adam
	logDet  []float64
	metrics []train.Metric
}

func newFlow(name string, net flowNet, common config.Common, alpha, temp float64) (*Flow, error) {
	if alpha <= 0 || alpha >= 0.5 {
		return nil, fmt.Errorf("config: %s.alpha must be in (0, 0.5), got %g", name, alpha)
	}
	if err := checkTemperature(temp); err != nil {
		return nil, fmt.Errorf("config: %s.%w", name, err)
	}
	if common.Data.Binarize {
		return nil, fmt.Errorf("config: a flow models 256 grey levels; set data.binarize to false")
	}
	return &Flow{name: name, net: net, common: common, pre: logitTransform{alpha}, side: imageSide(common), temp: temp}, nil
}

// Params implements train.Trainable: the state_dict, buffers included.
func (m *Flow) Params() []*graphs.Param { return m.net.params() }

// Optimizers implements train.Trainable.
func (m *Flow) Optimizers() []checkpoint.Named {
	if m.opt == nil {
		m.opt = newAdam(m.common.Train, m.net.trainable())
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
	return m.metrics, nil
}

// testBitsPerDim is the exact test-set negative log-likelihood in bits/dim
// over whole batches of the test set, with dequantization noise from a
// fixed seed (the same for every model), and the images it counted.
func (m *Flow) testBitsPerDim(test *data.Dataset) (float64, int, error) {
	d := m.net.dims()
	if test.H*test.W != d {
		return 0, 0, fmt.Errorf("the flow models %d pixels, the test images have %d", d, test.H*test.W)
	}
	batch := max(1, min(m.common.Eval.BatchSize, test.N))
	x, bound, nll, _, err := m.net.nll(batch, false)
	if err != nil {
		return 0, 0, err
	}
	prog, err := graphs.Compile(bound, nil, graphs.Outputs{nll})
	if err != nil {
		return 0, 0, err
	}
	defer prog.Close()
	rng := rand.New(rand.NewPCG(0x44455155, 0x414e54)) // "DEQUANT"
	logDet := make([]float64, batch)
	var total float64
	done := 0
	for lo := 0; lo+batch <= test.N; lo += batch {
		m.pre.forward(x, test.Pixels[lo*d:(lo+batch)*d], d, rng, logDet)
		if err := prog.Run(); err != nil {
			return 0, 0, err
		}
		total += prog.Scalar(nll)
		for _, v := range logDet {
			total -= v
		}
		done += batch
	}
	if done == 0 {
		return 0, 0, fmt.Errorf("no test images")
	}
	return bitsPerDim(total/float64(done), d), done, nil
}

// TestMetrics implements train.TestEvaluator.
func (m *Flow) TestMetrics(test *data.Dataset, _ *rand.Rand) ([]train.Metric, error) {
	bpd, _, err := m.testBitsPerDim(test)
	if err != nil {
		return nil, err
	}
	return []train.Metric{{Name: "bits_per_dim", Value: bpd}}, nil
}

// Evaluate implements Model.
func (m *Flow) Evaluate(test *data.Dataset, _ *rand.Rand) (Report, error) {
	bpd, n, err := m.testBitsPerDim(test)
	if err != nil {
		return Report{}, err
	}
	return Report{Model: m.name, Images: n, Metrics: []train.Metric{{Name: "bits_per_dim", Value: bpd}},
		Notes: []string{"bits_per_dim: exact test negative log-likelihood of the 256-level images (uniform dequantization with a fixed seed, logit and 1/256 Jacobians included)"}}, nil
}

// SetTemperature implements TemperatureSampler.
func (m *Flow) SetTemperature(t float64) error {
	if err := checkTemperature(t); err != nil {
		return err
	}
	m.temp = t
	return nil
}

// Samples implements train.Sampler at the configured temperature.
func (m *Flow) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.samplesAt(n, m.temp, rng)
}

func (m *Flow) samplesAt(n int, temp float64, rng *rand.Rand) (sample.Images, error) {
	chunk := min(n, 100)
	b, draw, out, err := m.net.sampler(chunk)
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{out})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	d := m.net.dims()
	imgs := sample.Images{N: n, H: m.side, W: m.side, Pix: make([]float32, n*d)}
	for lo := 0; lo < n; lo += chunk {
		if err := draw(temp, rng); err != nil {
			return sample.Images{}, err
		}
		if err := prog.Run(); err != nil {
			return sample.Images{}, err
		}
		rows := min(chunk, n-lo)
		pix := prog.Value(out)[:rows*d]
		for r := range rows {
			if m.pre.inverse(imgs.Pix[(lo+r)*d:(lo+r+1)*d], pix[r*d:(r+1)*d]) > 0 {
				m.nonFinite++
			}
		}
	}
	return imgs, nil
}

// NonFiniteSamples is how many samples since the model was built had
// pixels that were not numbers (drawn black): the inverse overflowed.
func (m *Flow) NonFiniteSamples() int { return m.nonFinite }

// Kinds implements Model: samples, or rows of samples at temperatures 0.5 to 1.
func (m *Flow) Kinds() []string { return []string{"prior", "temperatures"} }

// Draw implements Model.
func (m *Flow) Draw(req DrawRequest, _ *data.Dataset, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if req.Class >= 0 {
		return sample.Images{}, sample.GridOptions{}, errNotConditional(m.name)
	}
	switch req.Kind {
	case "prior":
		imgs, err := m.Samples(req.N, rng)
		return imgs, sample.DefaultGridOptions(), err
	case "temperatures":
		per := max(1, int(math.Ceil(float64(req.N)/float64(len(gridTemperatures)))))
		return temperatureGrid(per, func(n int, t float64) (sample.Images, error) { return m.samplesAt(n, t, rng) })
	}
	return sample.Images{}, sample.GridOptions{}, fmt.Errorf("the %s draws %v, not %q", m.name, m.Kinds(), req.Kind)
}

func fillScaledNormal(dst []float32, t float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(t * rng.NormFloat64())
	}
}
