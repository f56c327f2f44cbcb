// Package vec32 holds the float32 vector kernels of the hot loops outside
// the matrix multiply: Adam's update, SiLU, the Winograd F(2x2, 3x3) tile
// transforms and the normalization layers' sums and affine maps. Each is a
// Go loop, with AVX-512 and/or AVX2 assembly on amd64 chosen at run time.
// Each assembly kernel performs the Go version's operations in the same
// order with the same roundings (no fused multiply-adds; sums in the same
// lane order), so every path gives bit-identical results; tests check that.
package vec32

import "math"

// AdamConsts are one Adam update's constants.
type AdamConsts struct {
	B1, B2   float32 // moment decays
	Scale    float32 // gradient scale (clipping)
	StepSize float32 // lr / (1 - b1^t)
	SqrtBC2  float32 // sqrt(1 - b2^t)
	Eps      float32
}

// Adam applies one Adam step to w with gradient g and moments m, v (all of
// w's length):
//
//	g' = g*scale; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g' g'
//	w -= stepSize m / (sqrt(v)/sqrtBC2 + eps)
func Adam(w, g, m, v []float32, c AdamConsts) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	done := 0
	if useAsm && n >= 8 {
		done = n &^ 7
		adamAVX2(&w[0], &g[0], &m[0], &v[0], done, c.B1, 1-c.B1, c.B2, 1-c.B2, c.Scale, c.StepSize, c.SqrtBC2, c.Eps)
	}
	adamGo(w[done:], g[done:], m[done:], v[done:], c)
}

// adamGo is the reference loop.
func adamGo(w, g, m, v []float32, c AdamConsts) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	omb1, omb2 := 1-c.B1, 1-c.B2
	for j := range w {
		gj := g[j] * c.Scale
		mj := c.B1*m[j] + omb1*gj
		vj := c.B2*v[j] + omb2*gj*gj
		m[j], v[j] = mj, vj
		// sqrt in float64 rounded to float32 is the correctly rounded
		// float32 square root, as VSQRTPS computes.
		w[j] -= c.StepSize * mj / (float32(math.Sqrt(float64(vj)))/c.SqrtBC2 + c.Eps)
	}
}
