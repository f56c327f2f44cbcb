package ssvae

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/evaluate"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler: prior draws, the classes in turn.
func (m *SSVAE) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.prior(n, -1, rng)
}

// GridOptions implements train.GridLayout: one class per column.
func (m *SSVAE) GridOptions() sample.GridOptions {
	opt := sample.DefaultGridOptions()
	opt.NRow = classes
	return opt
}

// Kinds implements models.Model.
func (m *SSVAE) Kinds() []sample.Kind {
	return []sample.Kind{
		{Name: "prior", Takes: sample.TakesClass, DefaultN: 100},
		{Name: "analogies", Grid: true, DefaultN: 10},
		{Name: "style", NeedsTest: true, Grid: true, DefaultN: 10},
	}
}

// Classes implements models.Model: the digits.
func (m *SSVAE) Classes(sample.Request) int { return classes }

// Draw implements models.Model. prior draws N images from p(z) p(x|y,z),
// the classes in turn (a column each) or the one asked for; analogies
// draws N rows, each one z from the prior decoded with y = 0 to 9; style
// shows N test digits, each followed by its style (the mean of q(z|x,y) at
// the class q(y|x) finds most probable) decoded with y = 0 to 9, the
// analogies of the paper's figure 1.
func (m *SSVAE) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	grid := m.GridOptions()
	var imgs sample.Images
	var err error
	switch req.Kind {
	case "prior":
		if req.Class >= 0 {
			grid = sample.DefaultGridOptions()
		}
		imgs, err = m.prior(req.N, req.Class, rng)
	case "analogies":
		imgs, err = m.analogies(req.N, rng)
	case "style":
		grid.NRow = classes + 1
		imgs, err = m.style(req, min(req.N, req.Test.N))
	default:
		err = fmt.Errorf("the ssvae has no %q picture", req.Kind)
	}
	return sample.Drawing{Images: imgs, Grid: grid}, err
}

// prior draws n images of class k, or with k < 0 image i of class i mod 10.
func (m *SSVAE) prior(n, k int, rng *rand.Rand) (sample.Images, error) {
	zd := m.Net.Config.LatentDim
	z := make([]float32, n*zd)
	models.FillNormal(z, rng)
	ys := make([]int, n)
	for i := range ys {
		ys[i] = k
		if k < 0 {
			ys[i] = i % classes
		}
	}
	return m.decode(z, ys)
}

// analogies decodes rows z's from the prior, each with the classes in turn.
func (m *SSVAE) analogies(rows int, rng *rand.Rand) (sample.Images, error) {
	zd := m.Net.Config.LatentDim
	style := make([]float32, rows*zd)
	models.FillNormal(style, rng)
	return m.decode(repeatStyles(style, rows, zd), classesInTurn(rows))
}

// repeatStyles repeats each of rows z's (zd values each) once per class.
func repeatStyles(style []float32, rows, zd int) []float32 {
	z := make([]float32, 0, rows*classes*zd)
	for r := 0; r < rows; r++ {
		for range classes {
			z = append(z, style[r*zd:(r+1)*zd]...)
		}
	}
	return z
}

// classesInTurn is 0..9 repeated rows times.
func classesInTurn(rows int) []int {
	ys := make([]int, rows*classes)
	for i := range ys {
		ys[i] = i % classes
	}
	return ys
}

// style returns rows rows of 11 images: a test digit, then its style with
// each class.
func (m *SSVAE) style(req sample.Request, rows int) (sample.Images, error) {
	test := req.Test
	d, zd := test.H*test.W, m.Net.Config.LatentDim
	if d != m.pixels() {
		return sample.Images{}, fmt.Errorf("test images are %dx%d, the model takes %d pixels", test.H, test.W, m.pixels())
	}
	style, err := m.styles(test.Pixels[:rows*d], rows)
	if err != nil {
		return sample.Images{}, err
	}
	dec, err := m.decode(repeatStyles(style, rows, zd), classesInTurn(rows))
	if err != nil {
		return sample.Images{}, err
	}
	out := sample.Images{N: rows * (classes + 1), H: test.H, W: test.W}
	for r := 0; r < rows; r++ {
		out.Pix = append(out.Pix, test.Image(r)...)
		out.Pix = append(out.Pix, dec.Pix[r*classes*d:(r+1)*classes*d]...)
	}
	return out, nil
}

// styles returns, for n images, the mean of q(z|x,y) at the most probable
// class of q(y|x) (with M1, of z1's mean in place of x).
func (m *SSVAE) styles(x []float32, n int) ([]float32, error) {
	if m.m1 != nil {
		z1 := make([]float32, n*m.Net.Config.InputDim)
		if err := m.m1.features(z1, x[:n*m.pixels()], nil); err != nil {
			return nil, err
		}
		x = z1
	}
	d, zd := m.Net.Config.InputDim, m.Net.Config.LatentDim
	e, err := m.Net.BuildEncoder(sample.ChunkSize)
	if err != nil {
		return nil, err
	}
	// One program, run twice per chunk: first for the classes, then with
	// them for the styles (one machine per graph).
	prog, err := graphs.Compile(e.Bound, nil, graphs.Outputs{e.Logits, e.Mu})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	z := make([]float32, n*zd)
	ys := make([]uint8, sample.ChunkSize)
	err = sample.Chunks(n, sample.ChunkSize, func(lo, rows int) error {
		clear(e.X)
		copy(e.X, x[lo*d:(lo+rows)*d])
		if err := prog.Run(); err != nil {
			return err
		}
		logits := prog.Value(e.Logits)
		for i := range ys {
			ys[i] = uint8(evaluate.TopClass(logits[i*classes : (i+1)*classes]))
		}
		e.SetPairs(e.X, ys)
		if err := prog.Run(); err != nil {
			return err
		}
		copy(z[lo*zd:(lo+rows)*zd], prog.Value(e.Mu))
		return nil
	})
	return z, err
}

// decode maps latent codes (len(ys) rows) and classes to the decoder's
// Bernoulli means, or with M1 to M1's decoding of the decoder's means.
func (m *SSVAE) decode(z []float32, ys []int) (sample.Images, error) {
	if m.m1 != nil {
		means, err := m.decodeRows(z, ys, 1, m.Net.Config.InputDim)
		if err != nil {
			return sample.Images{}, err
		}
		return m.m1.decode(means.Pix)
	}
	side := m.common.Data.ImageSide()
	return m.decodeRows(z, ys, side, side)
}

// decodeRows returns the means of p(x|y,z) as len(ys) images of h x w.
func (m *SSVAE) decodeRows(z []float32, ys []int, h, w int) (sample.Images, error) {
	zd := m.Net.Config.LatentDim
	g, err := m.Net.BuildDecoder(sample.ChunkSize)
	if err != nil {
		return sample.Images{}, err
	}
	prog, err := graphs.Compile(g.Bound, nil, graphs.Outputs{g.Mean})
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	return sample.Fill(len(ys), h, w, func(dst []float32, lo, rows int) error {
		clear(g.Z)
		copy(g.Z, z[lo*zd:(lo+rows)*zd])
		clear(g.Y)
		for i, y := range ys[lo : lo+rows] {
			g.Y[i*classes+y] = 1
		}
		if err := prog.Run(); err != nil {
			return err
		}
		copy(dst, prog.Value(g.Mean))
		return nil
	})
}
