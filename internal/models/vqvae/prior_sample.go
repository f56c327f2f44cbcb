package vqvae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler: new digits, code grids drawn from the
// prior and decoded.
func (p *Prior) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	_, imgs, err := p.drawDigits(n, rng)
	return imgs, err
}

// drawDigits draws n grids of codes and decodes them with the VQ-VAE.
func (p *Prior) drawDigits(n int, rng *rand.Rand) ([]int32, sample.Images, error) {
	ae, err := p.autoencoder()
	if err != nil {
		return nil, sample.Images{}, err
	}
	codes, err := p.DrawCodes(n, rng)
	if err != nil {
		return nil, sample.Images{}, err
	}
	imgs, err := ae.DecodeCodes(codes)
	return codes, imgs, err
}

// GridOptions implements train.GridLayout.
func (p *Prior) GridOptions() sample.GridOptions { return sample.DefaultGridOptions() }

// Kinds implements models.Model.
func (p *Prior) Kinds() []sample.Kind {
	return []sample.Kind{{Name: "samples"}, {Name: "codes", Grid: true, DefaultN: 8}}
}

// Classes implements models.Model: the prior is unconditional.
func (p *Prior) Classes(sample.Request) int { return 0 }

// Draw implements models.Model. samples are decoded draws of the prior;
// codes shows, for N draws, the decoded digit beside its grid of codes
// drawn as gray levels (index / (K-1)), enlarged to the digit's size.
func (p *Prior) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	switch req.Kind {
	case "samples":
		imgs, err := p.Samples(req.N, rng)
		return sample.Drawing{Images: imgs, Grid: sample.DefaultGridOptions()}, err
	case "codes":
		imgs, err := p.codePairs(req.N, rng)
		grid := sample.DefaultGridOptions()
		grid.NRow = min(2*pairsPerRow, 2*req.N)
		return sample.Drawing{Images: imgs, Grid: grid}, err
	}
	return sample.Drawing{}, fmt.Errorf("the vqvae-prior has no %q picture", req.Kind)
}

// codePairs draws n grids, each shown as its codes beside its digit.
func (p *Prior) codePairs(n int, rng *rand.Rand) (sample.Images, error) {
	codes, digits, err := p.drawDigits(n, rng)
	if err != nil {
		return sample.Images{}, err
	}
	h, w, l := digits.H, digits.W, p.side
	d := h * w
	out := sample.Images{N: 2 * n, H: h, W: w, Pix: make([]float32, 0, 2*n*d)}
	scale := float32(1) / float32(max(1, p.cfg.CodebookSize-1))
	for i := range n {
		for y := range h {
			for x := range w {
				out.Pix = append(out.Pix, float32(codes[i*l*l+(y*l/h)*l+x*l/w])*scale)
			}
		}
		out.Pix = append(out.Pix, digits.Pix[i*d:(i+1)*d]...)
	}
	return out, nil
}

// DrawCodes draws n grids of codes from the prior in raster order, each
// code from the softmax of the logits the network gives its position after
// the codes before it are drawn: [n, side, side] row-major. Row r is drawn
// with a graph of the grid's first r+1 rows (nets.BuildRows).
func (p *Prior) DrawCodes(n int, rng *rand.Rand) ([]int32, error) {
	l, k := p.side, p.cfg.CodebookSize
	chunk := min(n, sample.ChunkSize)
	rg, err := p.Net.CompileRows(chunk)
	if err != nil {
		return nil, err
	}
	defer rg.Close()
	out := make([]int32, n*l*l)
	grid := make([]int, chunk*l*l) // the chunk's codes so far, 0 where not drawn
	vals := make([]int, chunk*l*l)
	probs := make([]float64, k)
	err = sample.Chunks(n, chunk, func(lo, rows int) error {
		clear(grid)
		for r := range l {
			s, prog := rg.Graphs[r], rg.Programs[r]
			rd := (r + 1) * l // the positions of a grid the graph sees
			for c := range l {
				for i := range chunk {
					copy(vals[i*rd:(i+1)*rd], grid[i*l*l:i*l*l+rd])
				}
				s.SetValues(vals[:chunk*rd])
				if err := prog.Run(); err != nil {
					return err
				}
				logits := prog.Value(s.Logits) // (chunk, K, r+1, l)
				for i := range rows {
					for j := range k {
						probs[j] = float64(logits[(i*k+j)*rd+r*l+c])
					}
					grid[i*l*l+r*l+c] = drawSoftmax(probs, rng)
				}
			}
		}
		for i := range rows * l * l {
			out[lo*l*l+i] = int32(grid[i])
		}
		return nil
	})
	return out, err
}

// drawSoftmax draws an index from the softmax of logits (overwritten).
func drawSoftmax(logits []float64, rng *rand.Rand) int {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, v)
	}
	var s float64
	for j, v := range logits {
		logits[j] = math.Exp(v - m)
		s += logits[j]
	}
	u := rng.Float64() * s
	for j, w := range logits {
		u -= w
		if u < 0 {
			return j
		}
	}
	return len(logits) - 1
}
