package train

import (
	"fmt"
	"github.com/genmodel/genmodel/internal/vec32"
	"math"
	"strconv"
	"sync"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// AdamConfig holds Adam's hyper-parameters (Kingma & Ba 2015), with PyTorch's
// meaning, plus optional clipping of the global gradient norm.
type AdamConfig struct {
	LR, Beta1, Beta2, Eps float64
	GradClip              float64 // 0: off
	// WarmupSteps ramps the learning rate linearly from LR/WarmupSteps at
	// the first update to LR at update WarmupSteps (0: no warm-up), as
	// PyTorch's LinearLR does. The ramp reads the checkpointed step count,
	// so a resumed run continues it.
	WarmupSteps int
	// Schedule is what follows the warm-up: ScheduleConstant (or "") keeps
	// LR; ScheduleCosine decays it along half a cosine to 0 at update
	// TotalSteps, as PyTorch's CosineAnnealingLR with eta_min 0 and
	// diffusers' cosine schedule with warm-up. It averages out, in the last
	// epochs, the noise a constant rate keeps; a model that samples from an
	// EMA of its weights may gain nothing from it (the ddpm did not:
	// docs/results.md).
	Schedule string
	// DecaySteps > 0 starts the cosine decay only DecaySteps updates before
	// TotalSteps, holding LR until then: the warm-up, stable, decay shape
	// (Hu et al. 2024, MiniCPM), whose decay can be added to a run trained
	// at a constant rate by resuming it with more epochs. 0 decays over the
	// whole run after the warm-up.
	DecaySteps int
	// TotalSteps is the run's last update (epochs times batches), which the
	// training loop fills in; a cosine schedule holds 0 after it.
	TotalSteps int64
}

// The learning-rate schedules of AdamConfig.Schedule (train.lr_schedule).
const (
	ScheduleConstant = "constant"
	ScheduleCosine   = "cosine"
)

// CheckSchedule refuses a train.lr_schedule other than the known ones.
func CheckSchedule(s string) error {
	switch s {
	case "", ScheduleConstant, ScheduleCosine:
		return nil
	}
	return fmt.Errorf("train.lr_schedule must be %s or %s, got %q", ScheduleConstant, ScheduleCosine, s)
}

// rate is the learning rate of update number step (from 1).
func (c AdamConfig) rate(step int64) float64 {
	w := int64(c.WarmupSteps)
	if w > 0 && step < w {
		return c.LR * float64(step) / float64(w)
	}
	if c.Schedule == ScheduleCosine && c.TotalSteps > w {
		start := w
		if c.DecaySteps > 0 {
			start = max(w, c.TotalSteps-int64(c.DecaySteps))
		}
		if step <= start {
			return c.LR
		}
		progress := min(1, float64(step-start)/float64(c.TotalSteps-start))
		return c.LR * 0.5 * (1 + math.Cos(math.Pi*progress))
	}
	return c.LR
}

// Adam is the optimizer. Unlike Gorgonia's AdamSolver, its moments are ours,
// so they are checkpointed and a resumed run continues bit for bit; and the
// update is one tight loop over each parameter's float32 storage.
type Adam struct {
	Config AdamConfig
	Steps  int64 // updates taken; PyTorch's "step" for the bias corrections
	// LastGradNorm is the global gradient norm of the last update, before
	// clipping (computed only when clipping is on).
	LastGradNorm float64
	params       []*graphs.Param
	index        map[*graphs.Param]int // params[index[p]] == p
	m, v         [][]float32
}

// NewAdam creates an optimizer for params with zero moments.
func NewAdam(cfg AdamConfig, params []*graphs.Param) *Adam {
	a := &Adam{Config: cfg, params: params, index: map[*graphs.Param]int{}}
	for i, p := range params {
		a.index[p] = i
		a.m = append(a.m, make([]float32, len(p.Data)))
		a.v = append(a.v, make([]float32, len(p.Data)))
	}
	return a
}

// Params returns the parameters this optimizer updates.
func (a *Adam) Params() []*graphs.Param { return a.params }

// AppendLR appends lr, the learning rate of the last update, when a schedule
// decays it (a constant or warm-up-only rate is the configured one).
func (a *Adam) AppendLR(metrics []Metric) []Metric {
	if a.Config.Schedule == ScheduleCosine && a.Steps > 0 {
		metrics = append(metrics, Metric{Name: "lr", Value: a.Config.rate(a.Steps)})
	}
	return metrics
}

// AppendGradNorm appends grad_norm, the last update's global gradient norm
// before clipping, to metrics when clipping is on (only then is the norm
// computed).
func (a *Adam) AppendGradNorm(metrics []Metric) []Metric {
	if a.Config.GradClip > 0 {
		metrics = append(metrics, Metric{Name: "grad_norm", Value: a.LastGradNorm})
	}
	return metrics
}

// Update applies one Adam step; grads[i] is the gradient of params[i], which
// may be listed in any order (a graph reports them in the order it used
// them). Parameters not listed are left alone, and their moments too.
func (a *Adam) Update(params []*graphs.Param, grads [][]float32) error {
	if len(params) != len(grads) {
		return fmt.Errorf("adam: %d parameters but %d gradients", len(params), len(grads))
	}
	scale := float32(1)
	if c := a.Config.GradClip; c > 0 {
		// As torch.nn.utils.clip_grad_norm_. The norm costs a pass over every
		// gradient, so it is only computed when clipping is on.
		norm := globalNorm(grads)
		a.LastGradNorm = norm
		if norm > c {
			scale = float32(c / (norm + 1e-6))
		}
	}
	for k, p := range params {
		if i, ok := a.index[p]; !ok || len(grads[k]) != len(p.Data) || len(a.m[i]) != len(p.Data) {
			return fmt.Errorf("adam: parameter %s is not one of this optimizer's, or its gradient has the wrong size", p.Name)
		}
	}
	a.Steps++
	bc1 := 1 - math.Pow(a.Config.Beta1, float64(a.Steps))
	bc2 := 1 - math.Pow(a.Config.Beta2, float64(a.Steps))
	c := adamStep{
		B1: float32(a.Config.Beta1), B2: float32(a.Config.Beta2), Scale: scale,
		StepSize: float32(a.Config.rate(a.Steps) / bc1), SqrtBC2: float32(math.Sqrt(bc2)), Eps: float32(a.Config.Eps),
	}
	// Large models split the elementwise update over two goroutines; each
	// element's arithmetic is the same either way, so results are identical.
	total := 0
	for _, p := range params {
		total += len(p.Data)
	}
	if total < 1<<16 {
		for k, p := range params {
			i := a.index[p]
			c.apply(p.Data, grads[k], a.m[i], a.v[i])
		}
		return nil
	}
	var wg sync.WaitGroup
	for k, p := range params {
		i := a.index[p]
		w, g, m, v := p.Data, grads[k], a.m[i], a.v[i]
		half := len(w) / 2
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.apply(w[:half], g[:half], m[:half], v[:half])
		}()
		c.apply(w[half:], g[half:], m[half:], v[half:])
	}
	wg.Wait()
	return nil
}

// adamStep holds one update's constants.
type adamStep vec32.AdamConsts

// apply updates one slice of weights with its gradient and moments (an
// AVX2 loop where the CPU has it, bit-identical to the Go one).
func (c adamStep) apply(w, g, m, v []float32) { vec32.Adam(w, g, m, v, vec32.AdamConsts(c)) }

func globalNorm(grads [][]float32) float64 {
	var s float64
	for _, g := range grads {
		var part float32
		for _, x := range g {
			part += x * x
		}
		s += float64(part)
	}
	return math.Sqrt(s)
}

// StateTensors implements checkpoint.OptimizerState.
func (a *Adam) StateTensors(prefix string) ([]safetensors.Tensor, map[string]string) {
	var ts []safetensors.Tensor
	for i, p := range a.params {
		ts = append(ts,
			safetensors.Tensor{Name: prefix + "." + p.Name + ".exp_avg", Shape: p.Shape, Data: a.m[i]},
			safetensors.Tensor{Name: prefix + "." + p.Name + ".exp_avg_sq", Shape: p.Shape, Data: a.v[i]})
	}
	return ts, map[string]string{prefix + ".step": strconv.FormatInt(a.Steps, 10)}
}

// LoadStateTensors implements checkpoint.OptimizerState.
func (a *Adam) LoadStateTensors(prefix string, f *safetensors.File) error {
	steps, err := strconv.ParseInt(f.Metadata[prefix+".step"], 10, 64)
	if err != nil || steps < 0 {
		return fmt.Errorf("optimizer %s: bad step count %q", prefix, f.Metadata[prefix+".step"])
	}
	for i, p := range a.params {
		for _, st := range []struct {
			suffix string
			into   []float32
		}{{".exp_avg", a.m[i]}, {".exp_avg_sq", a.v[i]}} {
			name := prefix + "." + p.Name + st.suffix
			t, ok := f.Lookup(name)
			if !ok || len(t.Data) != len(st.into) {
				return fmt.Errorf("optimizer state %s missing or of the wrong size", name)
			}
			copy(st.into, t.Data)
		}
	}
	a.Steps = steps
	return nil
}
