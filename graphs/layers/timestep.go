package layers

import "math"

// TimestepEmbedding writes the reference's sinusoidal embedding of each
// timestep into dst (len(ts) rows of dim): [sin(t f_i), cos(t f_i)] with
// f_i = exp(-ln(10000) i / (dim/2)), i < dim/2.
func TimestepEmbedding(dst []float32, ts []int, dim int) {
	half := dim / 2
	for r, t := range ts {
		row := dst[r*dim : (r+1)*dim]
		for i := range half {
			// The reference computes f in float32 and t*f in float32.
			f := float32(math.Exp(-math.Log(10000) * float64(i) / float64(half)))
			a := float64(float32(t) * f)
			row[i] = float32(math.Sin(a))
			row[half+i] = float32(math.Cos(a))
		}
	}
}
