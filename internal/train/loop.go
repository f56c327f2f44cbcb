package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
)

// Batch is one batch of training images.
type Batch struct {
	X      []float32 // Size*H*W pixels in [0,1]
	Labels []uint8   // Size labels, or nil
	Size   int
	H, W   int
}

// Metric is one named figure of a step or an epoch.
type Metric struct {
	Name  string
	Value float64
}

// Trainable is a model as the loop sees it.
type Trainable interface {
	// Params returns every tensor of the checkpoint, in state_dict order.
	Params() []*graphs.Param
	// Optimizers returns the model's optimizers, whose state is checkpointed.
	Optimizers() []checkpoint.Named
	// TrainStep trains on one batch; rng is this step's own noise source. The
	// first metric is the loss shown on the progress bar.
	TrainStep(b Batch, step int64, rng *rand.Rand) ([]Metric, error)
}

// Sampler is implemented by generative models: the loop writes a grid of
// their samples after each epoch.
type Sampler interface {
	// Samples draws n images, taking all randomness from rng.
	Samples(n int, rng *rand.Rand) (sample.Images, error)
}

// EpochChecker is implemented by models that can tell from an epoch's mean
// metrics that training has gone wrong (a GAN whose discriminator wins); the
// loop prints each warning and records it in metrics.jsonl.
type EpochChecker interface {
	CheckEpoch(epochMetrics []Metric) []string
}

// TestEvaluator is implemented by models that report test-set losses after
// each epoch.
type TestEvaluator interface {
	TestMetrics(test *data.Dataset, rng *rand.Rand) ([]Metric, error)
}

// Options configures a run.
type Options struct {
	Model      string
	OutDir     string
	Seed       uint64
	Train      config.Train
	ConfigYAML string // the resolved configuration, saved in each checkpoint
	Version    string
	Resume     bool
	Log        io.Writer // progress and log lines; nil for none
	Terminal   bool      // Log is a terminal: draw a progress bar
	Test       *data.Dataset
	// StopAfterSteps makes the run behave as if interrupted once this many
	// steps are done (0: never); tests use it to interrupt deterministically.
	StopAfterSteps int64
	// AfterEpoch, when set, runs after each epoch's checkpoint (the loss
	// plots); its error is printed as a warning, not fatal.
	AfterEpoch func() error
}

// Result summarizes a finished (or interrupted) run.
type Result struct {
	Steps      int64
	Epochs     int
	Checkpoint string
	Last       []Metric // the last epoch's train (and test) metrics
}

// ErrInterrupted is wrapped by the error Run returns when it was stopped by
// its context (Ctrl-C) after saving a checkpoint.
var ErrInterrupted = errors.New("interrupted")

// Streams of the seeded generators; distinct so that no two uses of the seed
// draw the same numbers.
const (
	stepNoiseStream  = 0x5354455000000000 // "STEP"
	sampleGridStream = 0x4752494400000000 // "GRID"
	testNoiseStream  = 0x5445535400000000 // "TEST"
)

// Run trains m on ds until the configured number of epochs is done or ctx is
// cancelled, in which case it saves a checkpoint and returns an error
// wrapping ErrInterrupted.
func Run(ctx context.Context, m Trainable, ds *data.Dataset, opt Options) (*Result, error) {
	tc := opt.Train
	if tc.BatchSize <= 0 || tc.Epochs < 0 {
		return nil, fmt.Errorf("train.batch_size must be positive and train.epochs not negative")
	}
	nb := data.NumBatches(ds.N, tc.BatchSize)
	if nb == 0 {
		return nil, fmt.Errorf("the dataset has %d images, fewer than one batch of %d; lower train.batch_size or raise data.limit", ds.N, tc.BatchSize)
	}
	ckDir := filepath.Join(opt.OutDir, "checkpoints")
	res := &Result{}
	pos := checkpoint.Meta{Model: opt.Model, Config: opt.ConfigYAML, Version: opt.Version}
	if opt.Resume {
		path, err := checkpoint.Resolve(opt.OutDir)
		if err != nil {
			return nil, fmt.Errorf("cannot resume: %w", err)
		}
		meta, err := checkpoint.LoadWeights(path, opt.Model, m.Params())
		if err != nil {
			return nil, err
		}
		if err := checkpoint.LoadOptimizers(path, m.Optimizers()); err != nil {
			return nil, err
		}
		pos.Step, pos.Epoch, pos.Batch = meta.Step, meta.Epoch, meta.Batch
		if pos.Batch >= nb {
			return nil, fmt.Errorf("%s stopped at batch %d of an epoch that now has %d; resume with the run's own batch size and data", path, pos.Batch, nb)
		}
		res.Checkpoint = path
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "resuming from %s (epoch %d, step %d)\n", path, pos.Epoch+1, pos.Step)
		}
	}
	metrics, err := openMetrics(filepath.Join(opt.OutDir, "metrics.jsonl"), pos.Step, opt.Resume)
	if err != nil {
		return nil, err
	}
	defer metrics.Close()

	save := func() error {
		pos.Config = opt.ConfigYAML
		path, err := checkpoint.Save(ckDir, m.Params(), m.Optimizers(), pos, tc.KeepCheckpoints)
		if err != nil {
			return fmt.Errorf("%w; the previous checkpoint in %s is intact", err, ckDir)
		}
		res.Checkpoint = path
		return nil
	}

	batch := Batch{X: make([]float32, tc.BatchSize*ds.H*ds.W), Size: tc.BatchSize, H: ds.H, W: ds.W}
	if ds.Labels != nil {
		batch.Labels = make([]uint8, tc.BatchSize)
	}
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	start := time.Now()
	logEvery := max(1, tc.LogEvery)

	for pos.Epoch < tc.Epochs {
		order := data.EpochOrder(opt.Seed, pos.Epoch, ds.N)
		prog := newProgress(opt, pos.Epoch, tc.Epochs, nb, pos.Batch)
		var sums []Metric
		epochStart, windowStart := time.Now(), time.Now()
		windowSteps, epochSteps := 0, 0
		for pos.Batch < nb {
			ds.FillBatch(batch.X, batch.Labels, order, pos.Batch, tc.BatchSize)
			pcg.Seed(opt.Seed^stepNoiseStream, uint64(pos.Step))
			ms, err := m.TrainStep(batch, pos.Step, rng)
			if err != nil {
				return res, fmt.Errorf("step %d: %w", pos.Step, err)
			}
			if bad := nonFinite(ms); bad != "" {
				// Nothing after this step would be worth saving: stop with the
				// last checkpoint intact.
				return res, fmt.Errorf("%s is not finite at step %d: training diverged; the last checkpoint in %s is intact; lower train.lr or set train.grad_clip", bad, pos.Step+1, ckDir)
			}
			pos.Step++
			pos.Batch++
			windowSteps++
			epochSteps++
			sums = accumulate(sums, ms)
			if pos.Step%int64(logEvery) == 0 || pos.Batch == nb {
				elapsed := time.Since(windowStart).Seconds()
				ips := float64(windowSteps*tc.BatchSize) / elapsed
				if err := metrics.write("step", pos.Step, pos.Epoch+1, ms, ips, time.Since(start).Seconds()); err != nil {
					return res, err
				}
				prog.log(pos, nb, ms, ips)
				windowStart, windowSteps = time.Now(), 0
			}
			prog.step(ms)
			stop := opt.StopAfterSteps > 0 && pos.Step >= opt.StopAfterSteps
			if ctx.Err() != nil || stop {
				prog.finish()
				if pos.Batch == nb {
					pos.Epoch, pos.Batch = pos.Epoch+1, 0
				}
				if err := save(); err != nil {
					return res, err
				}
				res.Steps, res.Epochs = pos.Step, pos.Epoch
				return res, fmt.Errorf("%w at step %d; checkpoint %s; continue with --resume", ErrInterrupted, pos.Step, res.Checkpoint)
			}
		}
		prog.finish()
		pos.Epoch, pos.Batch = pos.Epoch+1, 0
		secs := time.Since(epochStart).Seconds()
		ips := float64(epochSteps*tc.BatchSize) / secs
		epochMetrics := mean(sums, epochSteps)
		if te, ok := m.(TestEvaluator); ok && opt.Test != nil {
			pcg.Seed(opt.Seed^testNoiseStream, 0)
			tm, err := te.TestMetrics(opt.Test, rng)
			if err != nil {
				return res, fmt.Errorf("test evaluation: %w", err)
			}
			for _, x := range tm {
				epochMetrics = append(epochMetrics, Metric{"test_" + x.Name, x.Value})
			}
		}
		if err := metrics.write("epoch", pos.Step, pos.Epoch, epochMetrics, ips, time.Since(start).Seconds()); err != nil {
			return res, err
		}
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "epoch %d/%d %s images/s %.0f (%.1fs)\n", pos.Epoch, tc.Epochs, formatMetrics(epochMetrics), ips, secs)
		}
		if ec, ok := m.(EpochChecker); ok {
			for _, w := range ec.CheckEpoch(epochMetrics) {
				if opt.Log != nil {
					fmt.Fprintf(opt.Log, "warning: epoch %d: %s\n", pos.Epoch, w)
				}
				if err := metrics.writeWarning(pos.Step, pos.Epoch, w); err != nil {
					return res, err
				}
			}
		}
		if err := writeSampleGrid(m, opt, pos.Epoch, pcg, rng); err != nil {
			return res, err
		}
		if err := save(); err != nil {
			return res, err
		}
		if opt.AfterEpoch != nil {
			if err := opt.AfterEpoch(); err != nil && opt.Log != nil {
				fmt.Fprintf(opt.Log, "warning: %v\n", err)
			}
		}
		res.Last = epochMetrics
	}
	res.Steps, res.Epochs = pos.Step, pos.Epoch
	return res, nil
}

// writeSampleGrid draws the same noise after every epoch, so the grids show
// how one set of samples evolves.
func writeSampleGrid(m Trainable, opt Options, epoch int, pcg *rand.PCG, rng *rand.Rand) error {
	s, ok := m.(Sampler)
	n := opt.Train.SampleCount
	if !ok || n <= 0 {
		return nil
	}
	pcg.Seed(opt.Seed^sampleGridStream, 0)
	imgs, err := s.Samples(n, rng)
	if err != nil {
		return fmt.Errorf("sampling the epoch grid: %w", err)
	}
	path := filepath.Join(opt.OutDir, "samples", fmt.Sprintf("epoch-%03d.png", epoch))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	grid := sample.DefaultGridOptions()
	if l, ok := m.(interface{ GridOptions() sample.GridOptions }); ok {
		grid = l.GridOptions() // a conditional model lays out one class per column
	}
	return sample.SaveGrid(path, imgs, grid)
}

// nonFinite names the first metric that is NaN or infinite, or returns "".
func nonFinite(ms []Metric) string {
	for _, m := range ms {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return m.Name
		}
	}
	return ""
}

func accumulate(sums, ms []Metric) []Metric {
	if sums == nil {
		sums = make([]Metric, len(ms))
		for i, x := range ms {
			sums[i].Name = x.Name
		}
	}
	for i, x := range ms {
		sums[i].Value += x.Value
	}
	return sums
}

func mean(sums []Metric, n int) []Metric {
	out := make([]Metric, len(sums))
	for i, x := range sums {
		out[i] = Metric{x.Name, x.Value / float64(max(1, n))}
	}
	return out
}

func formatMetrics(ms []Metric) string {
	s := ""
	for i, x := range ms {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s %.4g", x.Name, x.Value)
	}
	return s
}

// progress shows an epoch's progress: a bar on a terminal, a line every
// log_every steps otherwise, nothing when quiet.
type progress struct {
	bar    *progressbar.ProgressBar
	out    io.Writer // the terminal under the bar
	lines  io.Writer // plain log lines when not on a terminal
	epoch  int
	epochs int
	batch  int       // images per step, for the bar's images/s
	start  time.Time // of this epoch's steps in this process
	steps  int
}

func newProgress(opt Options, epoch, epochs, nb, done int) *progress {
	p := &progress{epoch: epoch + 1, epochs: epochs, batch: opt.Train.BatchSize, start: time.Now()}
	if opt.Log == nil {
		return p
	}
	if !opt.Terminal {
		p.lines = opt.Log
		return p
	}
	p.bar = progressbar.NewOptions(nb,
		progressbar.OptionSetWriter(opt.Log),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch+1, epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("batch"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)
	p.out = opt.Log
	if done > 0 {
		p.bar.Set(done)
	}
	return p
}

func (p *progress) step(ms []Metric) {
	if p.bar == nil {
		return
	}
	p.steps++
	if len(ms) > 0 {
		ips := float64(p.steps*p.batch) / time.Since(p.start).Seconds()
		p.bar.Describe(fmt.Sprintf("epoch %d/%d %s %.4g, %.0f images/s", p.epoch, p.epochs, ms[0].Name, ms[0].Value, ips))
	}
	p.bar.Add(1)
}

func (p *progress) log(pos checkpoint.Meta, nb int, ms []Metric, ips float64) {
	if p.lines == nil {
		return
	}
	fmt.Fprintf(p.lines, "epoch %d/%d batch %d/%d step %d %s images/s %.0f\n", p.epoch, p.epochs, pos.Batch, nb, pos.Step, formatMetrics(ms), ips)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.out)
		p.bar = nil
	}
}
