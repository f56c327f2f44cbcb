package graphs

import "gorgonia.org/tensor"

// FillArena sets every element of every buffer in p's arena to v: for the
// external test (arena_test.go) that poisons reused op outputs.
func FillArena(p *Program, v float32) {
	for _, buf := range p.arena.bufs {
		data := buf.Data().([]float32)
		for i := range data {
			data[i] = v
		}
	}
}

// ArenaTensor is the i-th output in p's arena.
func ArenaTensor(p *Program, i int) *tensor.Dense { return p.arena.bufs[i] }
