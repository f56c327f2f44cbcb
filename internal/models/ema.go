package models

import "github.com/genmodel/genmodel/graphs"

// UpdateAverage moves each tensor of avg toward the same-index tensor of
// params with decay min(decay, (1+n)/(10+n)) at update n (counting from 0):
// the warm-up lets the average leave the random initialization within the
// first few hundred updates. The ddpm's weights and a GAN's generator use it.
func UpdateAverage(avg, params []*graphs.Param, decay float64, n int64) {
	k := float64(n)
	d := float32(min(decay, (1+k)/(10+k)))
	for i, p := range params {
		e := avg[i].Data
		for j, w := range p.Data {
			e[j] = d*e[j] + (1-d)*w
		}
	}
}
