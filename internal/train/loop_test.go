package train

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
)

// divergingModel reports a NaN loss from its third step on.
type divergingModel struct {
	params *graphs.ParamSet
	opt    *Adam
}

func (d *divergingModel) Params() []*graphs.Param { return d.params.List() }
func (d *divergingModel) Optimizers() []checkpoint.Named {
	return []checkpoint.Named{{Name: "adam", Optimizer: d.opt}}
}
func (d *divergingModel) TrainStep(_ Batch, step int64, _ *rand.Rand) ([]Metric, error) {
	loss := 1.0
	if step >= 2 {
		loss = math.NaN()
	}
	return []Metric{{Name: "loss", Value: loss}}, nil
}

func TestDivergenceStopsTraining(t *testing.T) {
	ps := graphs.NewParamSet()
	ps.Add("w", 1)
	m := &divergingModel{params: ps, opt: NewAdam(AdamConfig{LR: 1}, ps.List())}
	ds := &data.Dataset{Name: "tiny", N: 8, H: 1, W: 1, Pixels: make([]float32, 8)}
	_, err := Run(context.Background(), m, ds, Options{Model: "test", OutDir: t.TempDir(),
		Train: config.Train{Epochs: 3, BatchSize: 2, LogEvery: 1}})
	if err == nil || !strings.Contains(err.Error(), "loss is not finite at step 3") || !strings.Contains(err.Error(), "diverged") {
		t.Fatalf("error %v, want a divergence error naming the step", err)
	}
}

// TestTrainConfigRefused checks that Run refuses bad train settings with an
// error naming the key, before it touches the run folder.
func TestTrainConfigRefused(t *testing.T) {
	ds := &data.Dataset{Name: "tiny", N: 8, H: 1, W: 1, Pixels: make([]float32, 8)}
	for _, c := range []struct {
		name string
		tc   config.Train
		key  string
	}{
		{"no batch", config.Train{Epochs: 1}, "train.batch_size"},
		{"negative warm-up", config.Train{Epochs: 1, BatchSize: 2, WarmupSteps: -1}, "train.warmup_steps"},
		{"unknown schedule", config.Train{Epochs: 1, BatchSize: 2, LRSchedule: "linear"}, "train.lr_schedule"},
		{"decay without cosine", config.Train{Epochs: 1, BatchSize: 2, DecaySteps: 3}, "train.decay_steps"},
		{"negative decay", config.Train{Epochs: 1, BatchSize: 2, LRSchedule: "cosine", DecaySteps: -3}, "train.decay_steps"},
	} {
		dir := t.TempDir()
		_, err := Run(context.Background(), newSteadyModel(), ds, Options{Model: "test", OutDir: dir, Train: c.tc})
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.key)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: the refused run wrote %d entries into its folder", c.name, len(entries))
		}
	}
}

// steadyModel trains on nothing and reports a constant loss; the types
// embedding it add one optional interface each.
type steadyModel struct {
	params *graphs.ParamSet
	opt    *Adam
}

func newSteadyModel() steadyModel {
	ps := graphs.NewParamSet()
	ps.Add("w", 1)
	return steadyModel{params: ps, opt: NewAdam(AdamConfig{LR: 1}, ps.List())}
}

func (s steadyModel) Params() []*graphs.Param { return s.params.List() }
func (s steadyModel) Optimizers() []checkpoint.Named {
	return []checkpoint.Named{{Name: "adam", Optimizer: s.opt}}
}
func (steadyModel) TrainStep(Batch, int64, *rand.Rand) ([]Metric, error) {
	return []Metric{{Name: "loss", Value: 1}}, nil
}

type testedModel struct{ steadyModel }

func (testedModel) TestMetrics(*data.Dataset, *rand.Rand) ([]Metric, error) {
	return []Metric{{Name: "loss", Value: 2}}, nil
}

// rankedModel's test loss after each epoch is the next of losses.
type rankedModel struct {
	steadyModel
	losses []float64
	epoch  *int
}

func (r rankedModel) TestMetrics(*data.Dataset, *rand.Rand) ([]Metric, error) {
	*r.epoch++
	return []Metric{{Name: "loss", Value: r.losses[*r.epoch-1]}}, nil
}

func (rankedModel) BestMetric() string { return "loss" }

// TestBestCheckpoint trains four epochs of a model whose test loss is best
// after the second, keeping one checkpoint: checkpoints/best must name the
// second epoch's, which pruning keeps, and the log must say so once per
// improvement.
func TestBestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ds := &data.Dataset{Name: "tiny", N: 8, H: 1, W: 1, Pixels: make([]float32, 8)}
	var log strings.Builder
	m := rankedModel{newSteadyModel(), []float64{3, 1, 2, 1.5}, new(int)}
	opt := Options{Model: "test", OutDir: dir, Test: ds, Log: &log,
		Train: config.Train{Epochs: 4, BatchSize: 2, LogEvery: 4, KeepCheckpoints: 1}}
	if _, err := Run(context.Background(), m, ds, opt); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "checkpoints")
	b, err := checkpoint.ReadBest(ck)
	if err != nil || b != (checkpoint.Best{File: checkpoint.FileName(8), Metric: "test_loss", Value: 1}) {
		t.Fatalf("best %+v, %v; want epoch 2's checkpoint at test_loss 1", b, err)
	}
	var kept []string
	for _, p := range checkpoint.List(ck) {
		kept = append(kept, filepath.Base(p))
	}
	if want := []string{checkpoint.FileName(8), checkpoint.FileName(16)}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v (the best and the newest)", kept, want)
	}
	if n := strings.Count(log.String(), "best test_loss so far"); n != 2 {
		t.Errorf("the log announces %d new bests, want 2:\n%s", n, log.String())
	}
}

type checkedModel struct{ steadyModel }

func (checkedModel) CheckEpoch([]Metric) []string { return []string{"too steady"} }

type sampledModel struct{ steadyModel }

func (sampledModel) Samples(n int, _ *rand.Rand) (sample.Images, error) {
	return sample.Images{N: n, H: 2, W: 2, Pix: make([]float32, n*4)}, nil
}

type laidOutModel struct{ sampledModel }

func (laidOutModel) GridOptions() sample.GridOptions {
	opt := sample.DefaultGridOptions()
	opt.NRow = 2
	return opt
}

// TestEpochChores runs two epochs of four steps and checks what each optional
// interface adds to the run folder, and in which order.
func TestEpochChores(t *testing.T) {
	stepsAndEpoch := []string{"step", "step", "epoch"}
	cases := []struct {
		name      string
		m         Trainable
		kinds     []string // of each epoch's metrics.jsonl records
		epochKeys []string // in each epoch record besides the fixed ones
		gridCols  int      // of the sample grids; 0 for none
	}{
		{"plain", newSteadyModel(), stepsAndEpoch, []string{"loss"}, 0},
		{"test evaluator", testedModel{newSteadyModel()}, stepsAndEpoch, []string{"loss", "test_loss"}, 0},
		{"epoch checker", checkedModel{newSteadyModel()}, append(stepsAndEpoch, "warning"), []string{"loss"}, 0},
		{"sampler", sampledModel{newSteadyModel()}, stepsAndEpoch, []string{"loss"}, 4},
		{"grid layout", laidOutModel{sampledModel{newSteadyModel()}}, stepsAndEpoch, []string{"loss"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ds := &data.Dataset{Name: "tiny", N: 8, H: 1, W: 1, Pixels: make([]float32, 8)}
			var latestAtAfterEpoch []string
			opt := Options{Model: "test", OutDir: dir, Test: ds,
				Train: config.Train{Epochs: 2, BatchSize: 2, LogEvery: 2, SampleCount: 4},
				AfterEpoch: func() error {
					b, err := os.ReadFile(filepath.Join(dir, "checkpoints", "latest"))
					latestAtAfterEpoch = append(latestAtAfterEpoch, strings.TrimSpace(string(b)))
					return err
				}}
			res, err := Run(context.Background(), c.m, ds, opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != 8 || res.Epochs != 2 || !slices.Equal(metricNames(res.Last), c.epochKeys) {
				t.Errorf("result %d steps %d epochs last %v; want 8, 2, %v", res.Steps, res.Epochs, res.Last, c.epochKeys)
			}
			want := []string{checkpoint.FileName(4), checkpoint.FileName(8)}
			if !slices.Equal(latestAtAfterEpoch, want) {
				t.Errorf("AfterEpoch saw checkpoints %v, want %v", latestAtAfterEpoch, want)
			}
			records := readRecords(t, filepath.Join(dir, "metrics.jsonl"))
			var kinds []string
			for _, r := range records {
				kinds = append(kinds, r["kind"].(string))
				if r["kind"] == "epoch" {
					for _, k := range c.epochKeys {
						if _, ok := r[k]; !ok {
							t.Errorf("epoch record %v lacks %s", r, k)
						}
					}
				}
			}
			if wantKinds := slices.Concat(c.kinds, c.kinds); !slices.Equal(kinds, wantKinds) {
				t.Errorf("metrics.jsonl kinds %v, want %v", kinds, wantKinds)
			}
			for epoch := 1; epoch <= 2; epoch++ {
				checkGrid(t, filepath.Join(dir, "samples", fmt.Sprintf("epoch-%03d.png", epoch)), c.gridCols)
			}
		})
	}
}

func metricNames(ms []Metric) []string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names
}

func readRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		records = append(records, r)
	}
	return records
}

// checkGrid checks that path is a grid of four 2x2 tiles in cols columns, or
// that it does not exist when cols is 0.
func checkGrid(t *testing.T, path string, cols int) {
	t.Helper()
	f, err := os.Open(path)
	if cols == 0 {
		if !os.IsNotExist(err) {
			t.Errorf("%s: %v, want no grid", path, err)
		}
		if err == nil {
			f.Close()
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	opt := sample.DefaultGridOptions()
	opt.NRow = cols
	g := sample.GridLayout(4, 2, 2, opt)
	if b := img.Bounds(); b.Dx() != g.Width || b.Dy() != g.Height {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), g.Width, g.Height)
	}
}

// subsetModel trains on the first half of the set it is given, without
// labels, and records the batches it sees.
type subsetModel struct {
	steadyModel
	seen *[]float32
}

func (s subsetModel) UseTrainingSet(ds *data.Dataset) (*data.Dataset, error) {
	half := *ds.Limit(ds.N / 2)
	half.Labels = nil
	return &half, nil
}

func (s subsetModel) TrainStep(b Batch, _ int64, _ *rand.Rand) ([]Metric, error) {
	if b.Labels != nil {
		return nil, fmt.Errorf("labels in a batch of a set without them")
	}
	*s.seen = append(*s.seen, b.X[:b.Size]...)
	return []Metric{{Name: "loss", Value: 1}}, nil
}

// TestTrainingSetUser checks that the loop iterates over the set a
// TrainingSetUser returns: its size sets the epoch's batches, and only its
// images reach the steps.
func TestTrainingSetUser(t *testing.T) {
	ds := &data.Dataset{Name: "tiny", N: 8, H: 1, W: 1, Pixels: []float32{0, 1, 2, 3, 4, 5, 6, 7}, Labels: make([]uint8, 8)}
	var seen []float32
	res, err := Run(context.Background(), subsetModel{newSteadyModel(), &seen}, ds, Options{Model: "test", OutDir: t.TempDir(),
		Train: config.Train{Epochs: 1, BatchSize: 2, LogEvery: 1}})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	if res.Steps != 2 || !slices.Equal(seen, []float32{0, 1, 2, 3}) {
		t.Errorf("%d steps saw images %v, want 2 steps over images 0 to 3", res.Steps, seen)
	}
}
