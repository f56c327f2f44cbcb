package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
)

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
	if u, ok := m.(TrainingSetUser); ok {
		var err error
		if ds, err = u.UseTrainingSet(ds); err != nil {
			return nil, err
		}
	}
	r, err := newRun(m, ds, opt)
	if err != nil {
		return nil, err
	}
	if opt.Resume {
		if err := r.resume(); err != nil {
			return nil, err
		}
	}
	if err := r.openMetrics(); err != nil {
		return nil, err
	}
	defer r.metrics.Close()
	for r.pos.epoch < opt.Train.Epochs {
		e := r.beginEpoch()
		for r.pos.batch < r.nb {
			if err := r.step(e); err != nil {
				return r.res, err
			}
			if r.stopping(ctx) {
				return r.res, r.interrupt(e)
			}
		}
		if err := r.endEpoch(e); err != nil {
			return r.res, err
		}
	}
	r.res.Steps, r.res.Epochs = r.pos.step, r.pos.epoch
	return r.res, nil
}

// position is how far a run has got: what a checkpoint records so that a
// resumed run goes on where the interrupted one stopped.
type position struct {
	step  int64 // optimizer steps taken
	epoch int   // epochs completed
	batch int   // batches done in the epoch in progress
}

// run is one call of Run: what its steps and epoch chores share.
type run struct {
	m       Trainable
	ds      *data.Dataset
	opt     Options
	nb      int    // batches per epoch
	ckDir   string // the checkpoints folder
	pos     position
	res     *Result
	metrics *metricsLog
	batch   Batch // reused by every step
	// rng draws from pcg, which is reseeded before each use so that every
	// use's numbers depend only on the seed and where the run is.
	pcg   *rand.PCG
	rng   *rand.Rand
	start time.Time
	// lrLog is the first Adam of the model, whose rate the log records.
	lrLog *Adam
}

func newRun(m Trainable, ds *data.Dataset, opt Options) (*run, error) {
	tc := opt.Train
	if tc.BatchSize <= 0 || tc.Epochs < 0 {
		return nil, fmt.Errorf("train.batch_size must be positive and train.epochs not negative")
	}
	if tc.WarmupSteps < 0 {
		return nil, fmt.Errorf("train.warmup_steps must not be negative, got %d", tc.WarmupSteps)
	}
	if err := CheckSchedule(tc.LRSchedule); err != nil {
		return nil, err
	}
	if tc.DecaySteps < 0 || (tc.DecaySteps > 0 && tc.LRSchedule != ScheduleCosine) {
		return nil, fmt.Errorf("train.decay_steps must be 0, or positive with train.lr_schedule: cosine; got %d with %q", tc.DecaySteps, tc.LRSchedule)
	}
	nb := data.NumBatches(ds.N, tc.BatchSize)
	if nb == 0 {
		return nil, fmt.Errorf("the dataset has %d images, fewer than one batch of %d; lower train.batch_size or raise data.limit", ds.N, tc.BatchSize)
	}
	r := &run{m: m, ds: ds, opt: opt, nb: nb, ckDir: filepath.Join(opt.OutDir, "checkpoints"), res: &Result{}}
	// A schedule's horizon is the whole run, which only the loop knows; a
	// run resumed with more epochs stretches the rest of its decay.
	for _, o := range m.Optimizers() {
		if a, ok := o.Optimizer.(*Adam); ok {
			a.Config.TotalSteps = int64(tc.Epochs) * int64(nb)
			if r.lrLog == nil {
				r.lrLog = a
			}
		}
	}
	r.batch = Batch{X: make([]float32, tc.BatchSize*ds.H*ds.W), Size: tc.BatchSize, H: ds.H, W: ds.W}
	if ds.Labels != nil {
		r.batch.Labels = make([]uint8, tc.BatchSize)
	}
	r.pcg = rand.NewPCG(0, 0)
	r.rng = rand.New(r.pcg)
	return r, nil
}

// resume loads the run folder's latest checkpoint into the model and takes up
// its position.
func (r *run) resume() error {
	path, err := checkpoint.Resolve(r.opt.OutDir)
	if err != nil {
		return fmt.Errorf("cannot resume: %w", err)
	}
	meta, err := checkpoint.LoadWeights(path, r.opt.Model, r.m.Params())
	if err != nil {
		return err
	}
	if err := checkpoint.LoadOptimizers(path, r.m.Optimizers()); err != nil {
		return err
	}
	r.pos = position{step: meta.Step, epoch: meta.Epoch, batch: meta.Batch}
	if r.pos.batch >= r.nb {
		return fmt.Errorf("%s stopped at batch %d of an epoch that now has %d; resume with the run's own batch size and data", path, r.pos.batch, r.nb)
	}
	r.res.Checkpoint = path
	if r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, "resuming from %s (epoch %d, step %d)\n", path, r.pos.epoch+1, r.pos.step)
	}
	return nil
}

// openMetrics opens metrics.jsonl, after resume has found the step to cut it
// back to, and starts the clock of its records.
func (r *run) openMetrics() error {
	l, seconds, err := openMetrics(filepath.Join(r.opt.OutDir, "metrics.jsonl"), r.pos.step, r.opt.Resume)
	if err != nil {
		return err
	}
	// A resumed run's clock goes on from the interrupted one's, so the
	// records' seconds are the training time of the whole run.
	r.metrics, r.start = l, time.Now().Add(-time.Duration(seconds*float64(time.Second)))
	return nil
}

// step trains on the epoch's next batch.
func (r *run) step(e *epochState) error {
	r.ds.FillBatch(r.batch.X, r.batch.Labels, e.order, r.pos.batch, r.batch.Size)
	r.pcg.Seed(r.opt.Seed^stepNoiseStream, uint64(r.pos.step))
	ms, err := r.m.TrainStep(r.batch, r.pos.step, r.rng)
	if err != nil {
		return fmt.Errorf("step %d: %w", r.pos.step, err)
	}
	if bad := nonFinite(ms); bad != "" {
		// Nothing after this step would be worth saving: stop with the last
		// checkpoint intact.
		return fmt.Errorf("%s is not finite at step %d: training diverged; the last checkpoint in %s is intact; lower train.lr or set train.grad_clip", bad, r.pos.step+1, r.ckDir)
	}
	r.pos.step++
	r.pos.batch++
	e.add(ms)
	if r.pos.step%int64(max(1, r.opt.Train.LogEvery)) == 0 || r.pos.batch == r.nb {
		if err := r.logStep(e, ms); err != nil {
			return err
		}
	}
	e.prog.step(ms)
	return nil
}

// logStep records a step in metrics.jsonl and the log, with the speed since
// the last record.
func (r *run) logStep(e *epochState, ms []Metric) error {
	ips := float64(e.windowSteps*r.batch.Size) / time.Since(e.windowStart).Seconds()
	// A decaying rate is logged (once: a model's optimizers share the
	// schedule), as diffusers' scripts log lr.
	if r.lrLog != nil {
		ms = r.lrLog.AppendLR(ms)
	}
	if err := r.metrics.write("step", r.pos.step, r.pos.epoch+1, ms, ips, r.elapsed()); err != nil {
		return err
	}
	e.prog.log(r.pos, r.nb, ms, ips)
	e.windowStart, e.windowSteps = time.Now(), 0
	return nil
}

func (r *run) stopping(ctx context.Context) bool {
	return ctx.Err() != nil || r.opt.StopAfterSteps > 0 && r.pos.step >= r.opt.StopAfterSteps
}

// interrupt saves a checkpoint where the run stopped, so that --resume goes
// on from the next step.
func (r *run) interrupt(e *epochState) error {
	e.prog.finish()
	if r.pos.batch == r.nb {
		r.pos.epoch, r.pos.batch = r.pos.epoch+1, 0
	}
	if err := r.saveCheckpoint(); err != nil {
		return err
	}
	r.res.Steps, r.res.Epochs = r.pos.step, r.pos.epoch
	return fmt.Errorf("%w at step %d; checkpoint %s; continue with --resume", ErrInterrupted, r.pos.step, r.res.Checkpoint)
}

// saveCheckpoint saves the weights, the optimizers' state and the position.
func (r *run) saveCheckpoint() error {
	meta := checkpoint.Meta{Model: r.opt.Model, Config: r.opt.ConfigYAML, Version: r.opt.Version,
		Step: r.pos.step, Epoch: r.pos.epoch, Batch: r.pos.batch}
	path, err := checkpoint.Save(r.ckDir, r.m.Params(), r.m.Optimizers(), meta, r.opt.Train.KeepCheckpoints)
	if err != nil {
		return fmt.Errorf("%w; the previous checkpoint in %s is intact", err, r.ckDir)
	}
	r.res.Checkpoint = path
	return nil
}

// elapsed is the seconds of training so far, this process's and, in a
// resumed run, the interrupted ones', for the metrics records.
func (r *run) elapsed() float64 { return time.Since(r.start).Seconds() }

// nonFinite names the first metric that is NaN or infinite, or returns "".
func nonFinite(ms []Metric) string {
	for _, m := range ms {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return m.Name
		}
	}
	return ""
}
