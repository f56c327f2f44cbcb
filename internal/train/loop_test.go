package train

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/config"
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
