package graphs

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

// ArenaData is the storage of the i-th buffer in p's arena.
func ArenaData(p *Program, i int) []float32 { return p.arena.bufs[i].Data().([]float32) }
