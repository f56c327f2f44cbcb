package diffusion

import (
	"math"
	"math/rand/v2"
	"sort"
)

// SamplerDPM2M is DPM-Solver++(2M)'s name (Lu et al. 2022).
const SamplerDPM2M = "dpm++2m"

func init() {
	register(SamplerDPM2M, samplerSpec{build: func(c Choice, s *Schedule) Sampler { return &DPMSolver2M{Sched: s, Clip: c.Clip} }})
}

// DPMSolver2M is DPM-Solver++(2M) (Lu et al. 2022, algorithm 2): a
// multistep second-order solver of the diffusion ODE in the data
// prediction D (the clean image the noise implies, clipped as DDIM clips
// it). With alpha = sqrt(abar), sigma = sqrt(1 - abar), lambda =
// log(alpha/sigma) and h = lambda_prev - lambda_t, a step is
//
//	x_prev = (sigma_prev/sigma_t) x - alpha_prev (e^-h - 1) D'
//
// where D' = D_t on the first step (DDIM's update), and after it
// D' = (1 + 1/2r) D_t - (1/2r) D_last with r = h_last/h, the previous step's
// h over this one's. The last step, to the clean image, is first order: it
// returns D_t, as diffusers does for short runs ("lower order final"),
// because h is infinite there. It visits LogSNRTimesteps, Lu et al.'s
// spacing for low-resolution images: with the linear schedule, DDIM's even
// spacing makes h near t = 0 several times the previous step's, and the
// extrapolation by 1/2r then overshoots (measured: on Gaussian data the
// error grew from 10 to 40 steps).
type DPMSolver2M struct {
	Sched *Schedule
	Clip  float64   // D's bound, as DDIM's (0: none)
	d     []float32 // this step's data prediction
	last  []float32 // the previous step's
	hLast float64   // the previous step's h (0: no previous step)
}

// Name implements Sampler.
func (*DPMSolver2M) Name() string { return SamplerDPM2M }

// Timesteps implements Sampler.
func (p *DPMSolver2M) Timesteps(steps int) []int { return LogSNRTimesteps(p.Sched, steps) }

// LogSNRTimesteps returns the timesteps nearest to steps values of lambda
// = log(alpha/sigma) evenly spaced from the schedule's noisiest usable
// timestep (spacedTop) to its cleanest, each once (see nearestSpaced).
func LogSNRTimesteps(s *Schedule, steps int) []int {
	top := spacedTop(s, steps)
	negLambda := make([]float64, top+1) // increasing in t
	for t := range negLambda {
		negLambda[t] = -logSNRHalf(s.ABar[t])
	}
	return nearestSpaced(negLambda, steps, func(u float64) float64 {
		return negLambda[top] + u*(negLambda[0]-negLambda[top])
	})
}

// LambdaMinClipped is the lowest lambda = log(alpha/sigma) the log-SNR and
// Karras spacings start from: -5.1, the lambda_min_clipped that diffusers'
// DPMSolverMultistepScheduler recommends for the cosine schedule. Its
// clipped last betas send lambda from -5 down to -10 within the last three
// timesteps, where x_t is noise either way, and a spacing even in lambda or
// in sigma^(1/7) would spend several of a few steps there. The linear
// schedule's noisiest lambda is -5.06, so this changes nothing on it.
const LambdaMinClipped = -5.1

// spacedTop is the noisiest timestep a spacing of steps starts from: the
// last one whose lambda is at least LambdaMinClipped, or T-1 when that
// leaves fewer than steps timesteps.
func spacedTop(s *Schedule, steps int) int {
	top := s.T() - 1
	for top > 0 && logSNRHalf(s.ABar[top]) < LambdaMinClipped {
		top--
	}
	if top+1 < steps {
		return s.T() - 1
	}
	return top
}

// nearestSpaced returns, for u = i/(steps-1), i = 0 .. steps-1, the index of
// the value of the increasing table nearest to at(u): the timesteps of a
// spacing given in a quantity that grows with t. Where the table is coarser
// than the spacing (near t = 0, or near T on the cosine schedule, whose
// clipped last betas send log-SNR far down in a few steps) two values fall
// on one timestep; the later one moves to the next free timestep instead,
// so the sampler takes exactly the steps asked for (steps <= len(table)).
func nearestSpaced(table []float64, steps int, at func(u float64) float64) []int {
	n := len(table)
	if steps <= 1 {
		return []int{n - 1}
	}
	ts := make([]int, 0, steps)
	for i := range steps {
		v := at(float64(i) / float64(steps-1))
		t := sort.SearchFloat64s(table, v)
		if t == n || (t > 0 && v-table[t-1] < table[t]-v) {
			t--
		}
		if i > 0 {
			t = min(t, ts[i-1]-1)
		}
		ts = append(ts, max(t, steps-1-i)) // leave room for the steps after
	}
	return ts
}

// Step implements Sampler.
func (p *DPMSolver2M) Step(x, eps []float32, t, prev int, _ Denoiser, _ *rand.Rand) error {
	if p.d == nil {
		p.d, p.last = make([]float32, len(x)), make([]float32, len(x))
	}
	at := p.Sched.ABar[t]
	predictX0(p.d, x, eps, at, p.Clip)
	if prev < 0 {
		copy(x, p.d)
		return nil
	}
	ap := p.Sched.ABar[prev]
	h := logSNRHalf(ap) - logSNRHalf(at)
	cx := float32(math.Sqrt((1 - ap) / (1 - at)))
	cd := -math.Sqrt(ap) * math.Expm1(-h)
	c0, c1 := cd, 0.0 // weights of D_t and D_last
	if p.hLast > 0 {
		k := 1 / (2 * p.hLast / h)
		c0, c1 = cd*(1+k), -cd*k
	}
	w0, w1 := float32(c0), float32(c1)
	for i := range x {
		x[i] = cx*x[i] + w0*p.d[i] + w1*p.last[i]
	}
	p.d, p.last = p.last, p.d
	p.hLast = h
	return nil
}

// logSNRHalf is lambda = log(alpha/sigma) = log(abar/(1-abar))/2.
func logSNRHalf(abar float64) float64 { return 0.5 * math.Log(abar/(1-abar)) }
