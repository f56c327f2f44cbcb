package ddpm

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// Trajectory runs n unguided reverse processes with opt and returns x_t at
// `columns` steps evenly spread over each chain (the last column the
// sample), a row per chain: the seed's reverse-process diagram.
func (m *DDPM) Trajectory(n, columns int, opt sampling, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	if n < 1 || columns < 2 {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("a trajectory needs at least 1 row and 2 columns")
	}
	opt.Guidance = ""
	at := map[int]int{} // step index -> column
	for c := range columns {
		at[c*opt.Steps/(columns-1)] = c
	}
	d := m.pixels()
	imgs := sample.Images{N: n * columns, H: m.side, W: m.side, Pix: make([]float32, n*columns*d)}
	var rev *ReverseProcess
	err := sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
		opt.Record = func(i, _ int, x []float32) {
			c, ok := at[i]
			if !ok {
				return
			}
			for r := range rows {
				copy(imgs.Pix[((lo+r)*columns+c)*d:][:d], x[r*d:(r+1)*d])
			}
		}
		var err error
		if rev, err = m.newReverseProcess(rows, opt); err != nil {
			return err
		}
		_, err = rev.Run(rng)
		return err
	})
	if err != nil {
		return sample.Images{}, sample.GridOptions{}, err
	}
	return imgs, trajectoryGrid(columns), nil
}

// ForwardProcess returns q(x_t | x_0) for the first n test images at
// `columns` timesteps evenly spread from 0 to T-1, a row per image: the
// seed's forward-process diagram.
func (m *DDPM) ForwardProcess(test *data.Dataset, n, columns int, rng *rand.Rand) (sample.Images, sample.GridOptions, error) {
	d := m.pixels()
	if test == nil || test.N < n || columns < 2 || test.H*test.W != d {
		return sample.Images{}, sample.GridOptions{}, fmt.Errorf("the forward picture needs %d test images of %dx%d and 2 columns", n, m.side, m.side)
	}
	T := m.Sched.T()
	imgs := sample.Images{N: n * columns, H: m.side, W: m.side, Pix: make([]float32, n*columns*d)}
	x0, eps := make([]float32, d), make([]float32, d)
	for r := range n {
		for i, v := range test.Image(r) {
			x0[i] = 2*v - 1
		}
		for c := range columns {
			models.FillNormal(eps, rng)
			t := c * (T - 1) / (columns - 1)
			m.Sched.QSample(imgs.Pix[(r*columns+c)*d:][:d], x0, eps, []int{t}, d)
		}
	}
	return imgs, trajectoryGrid(columns), nil
}

// trajectoryGrid lays out pictures of x_t, which live in [-1, 1], a row per chain.
func trajectoryGrid(columns int) sample.GridOptions {
	opt := sample.DefaultGridOptions()
	opt.NRow, opt.Lo, opt.Hi = columns, -1, 1
	return opt
}
