package pixelcnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler: draws from the model, the classes in
// turn when it is conditional.
func (m *PixelCNN) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.draw(n, -1, rng)
}

// GridOptions implements train.GridLayout: one class per column when
// conditional.
func (m *PixelCNN) GridOptions() sample.GridOptions {
	opt := sample.DefaultGridOptions()
	if m.cfg.Conditional {
		opt.NRow = classes
	}
	return opt
}

// Kinds implements models.Model.
func (m *PixelCNN) Kinds() []sample.Kind {
	return []sample.Kind{{Name: "samples", Takes: sample.TakesClass}}
}

// Classes implements models.Model: the digits when conditional.
func (m *PixelCNN) Classes(sample.Request) int {
	if m.cfg.Conditional {
		return classes
	}
	return 0
}

// Draw implements models.Model: N images drawn pixel by pixel, the classes
// in turn (a column each) or the one asked for.
func (m *PixelCNN) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	if req.Kind != "samples" {
		return sample.Drawing{}, fmt.Errorf("the pixelcnn has no %q picture", req.Kind)
	}
	grid := m.GridOptions()
	if req.Class >= 0 {
		grid = sample.DefaultGridOptions()
	}
	imgs, err := m.draw(req.N, req.Class, rng)
	return sample.Drawing{Images: imgs, Grid: grid}, err
}

// draw samples n images in raster order, a Bernoulli draw per pixel from
// the logit the network gives it after the pixels before it are drawn: of
// class k, or with k < 0 image i of class i mod 10 (conditional models).
// Row i is drawn with a graph of its first i+1 rows (nets.BuildRows):
// 784 runs per chunk of images, of 14.5 rows on average.
func (m *PixelCNN) draw(n, k int, rng *rand.Rand) (sample.Images, error) {
	side := m.side
	chunk := min(n, sample.ChunkSize)
	rg, err := m.Net.CompileRows(chunk)
	if err != nil {
		return sample.Images{}, err
	}
	defer rg.Close()
	d := side * side
	ys := make([]int, chunk)
	return sample.Fill(n, side, side, func(dst []float32, lo, rows int) error {
		clear(dst)
		for i := range ys {
			ys[i] = k
			if k < 0 {
				ys[i] = (lo + i) % classes
			}
		}
		for r := range side {
			s, prog := rg.Graphs[r], rg.Programs[r]
			if s.Y != nil {
				s.SetClasses(ys)
			}
			rd := (r + 1) * side // the pixels of an image the graph sees
			for c := range side {
				for i := range rows {
					copy(s.X[i*rd:(i+1)*rd], dst[i*d:i*d+rd])
				}
				if err := prog.Run(); err != nil {
					return err
				}
				logits := prog.Value(s.Logits)
				for i := range rows {
					p := sigmoid(logits[i*rd+r*side+c])
					if rng.Float64() < p {
						dst[i*d+r*side+c] = 1
					}
				}
			}
		}
		return nil
	})
}

// sigmoid is the Bernoulli mean of a logit.
func sigmoid(l float32) float64 { return 1 / (1 + math.Exp(-float64(l))) }
