package train

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/sample"
)

// epochState is what the steps of one epoch add up.
type epochState struct {
	order []int // the epoch's data order
	prog  *progress
	sums  []Metric
	steps int // taken in this process, for the epoch's speed
	start time.Time
	// The window is the steps since the last step record.
	windowSteps int
	windowStart time.Time
}

func (r *run) beginEpoch() *epochState {
	e := &epochState{
		order: data.EpochOrder(r.opt.Seed, r.pos.epoch, r.ds.N),
		prog:  newProgress(r.opt, r.pos.epoch, r.opt.Train.Epochs, r.nb, r.pos.batch),
	}
	e.start, e.windowStart = time.Now(), time.Now()
	return e
}

func (e *epochState) add(ms []Metric) {
	e.steps++
	e.windowSteps++
	e.sums = accumulate(e.sums, ms)
}

// epochEnd is what the chores after an epoch share.
type epochEnd struct {
	metrics      []Metric // the mean train metrics, then the test ones
	imagesPerSec float64
	seconds      float64
}

// endEpoch runs the chores of a finished epoch. Their order is part of the
// output: the test metrics join the epoch record before it is written, the
// warnings follow the record they are about, and the checkpoint is on disk
// before AfterEpoch reads the run folder.
func (r *run) endEpoch(e *epochState) error {
	e.prog.finish()
	r.pos.epoch, r.pos.batch = r.pos.epoch+1, 0
	secs := time.Since(e.start).Seconds()
	end := &epochEnd{
		metrics:      mean(e.sums, e.steps),
		imagesPerSec: float64(e.steps*r.batch.Size) / secs,
		seconds:      secs,
	}
	if err := r.evaluateTest(end); err != nil {
		return err
	}
	if err := r.logEpoch(end); err != nil {
		return err
	}
	if err := r.checkEpoch(end); err != nil {
		return err
	}
	if err := r.writeSampleGrid(); err != nil {
		return err
	}
	if err := r.saveCheckpoint(); err != nil {
		return err
	}
	if err := r.keepBest(end); err != nil {
		return err
	}
	r.afterEpoch()
	r.res.Last = end.metrics
	return nil
}

// evaluateTest adds the test-set metrics, named test_*, to the epoch's. The
// noise is the same after every epoch, so that the test losses of two epochs
// differ only by the training between them.
func (r *run) evaluateTest(end *epochEnd) error {
	te, ok := r.m.(TestEvaluator)
	if !ok || r.opt.Test == nil {
		return nil
	}
	r.pcg.Seed(r.opt.Seed^testNoiseStream, 0)
	tm, err := te.TestMetrics(r.opt.Test, r.rng)
	if err != nil {
		return fmt.Errorf("test evaluation: %w", err)
	}
	for _, x := range tm {
		end.metrics = append(end.metrics, Metric{"test_" + x.Name, x.Value})
	}
	return nil
}

// keepBest points checkpoints/best at the epoch's checkpoint when its test
// metric is the lowest so far.
func (r *run) keepBest(end *epochEnd) error {
	bt, ok := r.m.(BestTracker)
	if !ok || r.opt.Test == nil {
		return nil
	}
	name := "test_" + bt.BestMetric()
	i := slices.IndexFunc(end.metrics, func(m Metric) bool { return m.Name == name })
	if i < 0 {
		return fmt.Errorf("internal error: the model ranks checkpoints by %s, which its test metrics lack", name)
	}
	best, err := checkpoint.KeepIfBest(r.res.Checkpoint, name, end.metrics[i].Value)
	if err != nil {
		return fmt.Errorf("recording the best checkpoint: %w", err)
	}
	if best && r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, "best %s so far (%.4f): %s is checkpoints/%s\n", name, end.metrics[i].Value, filepath.Base(r.res.Checkpoint), checkpoint.BestFile)
	}
	return nil
}

func (r *run) logEpoch(end *epochEnd) error {
	if err := r.metrics.write("epoch", r.pos.step, r.pos.epoch, end.metrics, end.imagesPerSec, r.elapsed()); err != nil {
		return err
	}
	if r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, "epoch %d/%d %s images/s %.0f (%.1fs)\n", r.pos.epoch, r.opt.Train.Epochs, formatMetrics(end.metrics), end.imagesPerSec, end.seconds)
	}
	return nil
}

// checkEpoch prints the model's warnings about the epoch and records them,
// so that a run read later from metrics.jsonl shows them too.
func (r *run) checkEpoch(end *epochEnd) error {
	ec, ok := r.m.(EpochChecker)
	if !ok {
		return nil
	}
	for _, w := range ec.CheckEpoch(end.metrics) {
		if r.opt.Log != nil {
			fmt.Fprintf(r.opt.Log, "warning: epoch %d: %s\n", r.pos.epoch, w)
		}
		if err := r.metrics.writeWarning(r.pos.step, r.pos.epoch, w); err != nil {
			return err
		}
	}
	return nil
}

// writeSampleGrid draws the same noise after every epoch, so the grids show
// how one set of samples evolves.
func (r *run) writeSampleGrid() error {
	s, ok := r.m.(Sampler)
	n := r.opt.Train.SampleCount
	if !ok || n <= 0 {
		return nil
	}
	r.pcg.Seed(r.opt.Seed^sampleGridStream, 0)
	imgs, err := s.Samples(n, r.rng)
	if err != nil {
		return fmt.Errorf("sampling the epoch grid: %w", err)
	}
	path := filepath.Join(r.opt.OutDir, "samples", fmt.Sprintf("epoch-%03d.png", r.pos.epoch))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	grid := sample.DefaultGridOptions()
	if l, ok := r.m.(GridLayout); ok {
		grid = l.GridOptions()
	}
	return sample.SaveGrid(path, imgs, grid)
}

// afterEpoch runs Options.AfterEpoch, whose failure (a plot not drawn) is not
// worth stopping the training for.
func (r *run) afterEpoch() {
	if r.opt.AfterEpoch == nil {
		return
	}
	if err := r.opt.AfterEpoch(); err != nil && r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, "warning: %v\n", err)
	}
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
