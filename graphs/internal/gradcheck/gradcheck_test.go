package gradcheck

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

// recorder is a testing.TB that records failures instead of reporting
// them, so that the checker itself can be tested for failing.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failures = append(r.failures, fmt.Sprint(args...))
	runtime.Goexit()
}

// run calls check with r on a goroutine of its own, which Fatal ends.
func (r *recorder) run(check func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
}

// TestCheckFails makes sure the checker can fail: the loss it is handed is
// the graph's own, or the graph's scaled, so that the finite differences
// disagree with the graph's gradient by the scale. A ReLU layer keeps the
// kink skipping in play, as in the models' checks.
func TestCheckFails(t *testing.T) {
	for _, c := range []struct {
		name  string
		scale float64 // the loss Check sees is scale times the graph's
		fail  bool
	}{
		{"exact", 1, false},
		{"one percent off", 1.01, false}, // inside the 2% tolerance
		{"five percent off", 1.05, true},
		{"sign flipped", -1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			ps := graphs.NewParamSet()
			x := RandomParam(ps, "x", rng, 8, 6)
			w := NormalParam(ps, "w", 0.5, rng, 6, 5)
			var loss *G.Node
			b := Build(t, func(b *graphs.Bound) {
				y := graphs.Must(G.Rectify(graphs.Must(G.Mul(b.Node(x), b.Node(w)))))
				loss = WeightedSum(y, rng)
			})
			prog, lossFn := Compile(t, b, loss)
			rec := &recorder{TB: t}
			rec.run(func(tb testing.TB) {
				Check(tb, prog, func() float64 { return c.scale * lossFn() }, 48)
			})
			// A failure must be a gradient's, not "too few to trust".
			mismatches := 0
			for _, f := range rec.failures {
				if strings.Contains(f, "finite difference") {
					mismatches++
				}
			}
			if failed := mismatches > 0; failed != c.fail || mismatches != len(rec.failures) {
				t.Errorf("checker reported %d mismatches, want some: %v; failures %q", mismatches, c.fail, rec.failures)
			}
		})
	}
}
