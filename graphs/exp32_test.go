package graphs

import (
	"math"
	"testing"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for i := 0; i <= 200000; i++ {
		x := -87 + 175*float64(i)/200000
		got := float64(exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1)))) - float64(float32(want))
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
		}
	}
	if worst > 2 {
		t.Errorf("worst error %.2f ulp, want <= 2", worst)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {1, float32(math.E)}, {-1000, float32(math.Exp(-87))}, {1000, float32(math.Exp(88))}} {
		if got := exp32(c.x); math.Abs(float64(got-c.want)) > 2e-7*float64(c.want) {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}
