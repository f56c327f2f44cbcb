package layers

import (
	"math"
	"testing"
)

func TestTimestepEmbedding(t *testing.T) {
	dst := make([]float32, 2*8)
	TimestepEmbedding(dst, []int{0, 500}, 8)
	want0 := []float32{0, 0, 0, 0, 1, 1, 1, 1}
	for i, w := range want0 {
		if dst[i] != w {
			t.Fatalf("t=0: %v, want %v", dst[:8], want0)
		}
	}
	// f_1 = 10000^(-1/4) = 0.1: sin(50) and cos(50).
	if math.Abs(float64(dst[8+1])-math.Sin(50)) > 1e-5 || math.Abs(float64(dst[8+5])-math.Cos(50)) > 1e-5 {
		t.Errorf("t=500, i=1: %v, %v; want sin(50), cos(50)", dst[9], dst[13])
	}
}
