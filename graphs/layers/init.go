package layers

import (
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
)

// UniformInit fills p with U(-bound, bound), PyTorch's default for Linear and
// Conv layers (kaiming_uniform with a=sqrt(5) gives bound 1/sqrt(fan_in) for
// the weight, and the bias uses the same bound).
func UniformInit(p *graphs.Param, fanIn int, rng *rand.Rand) {
	bound := 1 / math.Sqrt(float64(fanIn))
	for i := range p.Data {
		p.Data[i] = float32((rng.Float64()*2 - 1) * bound)
	}
}

// NormalInit fills p from N(0, std).
func NormalInit(p *graphs.Param, std float64, rng *rand.Rand) {
	for i := range p.Data {
		p.Data[i] = float32(std * rng.NormFloat64())
	}
}
