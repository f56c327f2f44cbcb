package gan

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler: images from N(0, I) noise (for a
// conditional GAN, the classes in turn), mapped from [-1,1] to [0,1].
func (m *GAN) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	return m.generate(n, -1, 1, rng)
}

// generate draws n images of class k (k < 0: classes in turn) from noise
// z ~ N(0, temp^2 I): below 1, the truncation trick's trade of diversity for
// fidelity (Brock et al. 2019 truncate; scaling is the smooth version). With
// sample_keep < 1 it is discriminator rejection sampling (after Azadi et al.
// 2019, without their recalibration of D): G draws n/sample_keep images and
// the n that D scores most real are kept, class by class.
func (m *GAN) generate(n, k int, temp float64, rng *rand.Rand) (sample.Images, error) {
	keep := m.cfg.SampleKeep // in (0, 1], as decodeGANSection checks
	if keep == 1 || n == 0 {
		return m.render(n, k, temp, rng)
	}
	pool, err := m.render(int(math.Ceil(float64(n)/keep)), k, temp, rng)
	if err != nil {
		return sample.Images{}, err
	}
	scores, err := m.critic(pool, k)
	if err != nil {
		return sample.Images{}, err
	}
	return keepBest(pool, scores, n, m.classOf(k)), nil
}

// classOf says which class generate gives its i-th image: k, or with k < 0
// the classes in turn for a conditional model, the codes in turn for one
// with an InfoGAN code (so rejection sampling keeps the codes balanced), and
// 0 for a plain unconditional one.
func (m *GAN) classOf(k int) func(i int) int {
	width := m.oneHotWidth()
	return func(i int) int {
		switch {
		case width == 0:
			return 0
		case k >= 0:
			return k
		}
		return i % width
	}
}

// keepBest returns n of the pool's images, the best-scored of each class:
// the i-th result is the best image of class classOf(i) not yet taken.
func keepBest(pool sample.Images, scores []float32, n int, classOf func(int) int) sample.Images {
	byClass := map[int][]int{}
	for i := range pool.N {
		c := classOf(i)
		byClass[c] = append(byClass[c], i)
	}
	for _, idx := range byClass {
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	}
	dim := pool.H * pool.W
	out := sample.Images{N: n, H: pool.H, W: pool.W, Pix: make([]float32, n*dim)}
	for i := range n {
		c := classOf(i)
		j := byClass[c][0]
		byClass[c] = byClass[c][1:]
		copy(out.Pix[i*dim:(i+1)*dim], pool.Pix[j*dim:(j+1)*dim])
	}
	return out
}

// critic scores images in [0,1] by D's logit (evaluation mode), the i-th
// with the label generate gave it.
func (m *GAN) critic(imgs sample.Images, k int) ([]float32, error) {
	b, x, onehot, logits, err := nets.BuildGANCritic(m.Net, sample.ChunkSize)
	if err != nil {
		return nil, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{logits})
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	classOf := m.classOf(k)
	dim := imgs.H * imgs.W
	scores := make([]float32, imgs.N)
	err = sample.Chunks(imgs.N, sample.ChunkSize, func(lo, rows int) error {
		clear(x)
		for i, v := range imgs.Pix[lo*dim : (lo+rows)*dim] {
			x[i] = 2*v - 1
		}
		if onehot != nil {
			fillClasses(onehot, m.Net.Classes(), lo, classOf) // rows past the images are ignored
		}
		if err := prog.Run(); err != nil {
			return err
		}
		copy(scores[lo:lo+rows], prog.Value(logits)[:rows])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return scores, nil
}

// useAverage binds the generator's averaged tensors, when it keeps an
// average, in place of its own, with standing statistics, as drawing uses
// them; undo puts the trained tensors and statistics back. On an error
// nothing stays changed.
func (m *GAN) useAverage() (undo func(), err error) {
	if m.ema == nil {
		return func() {}, nil
	}
	swap := func() {
		for i, p := range m.gen {
			p.Data, m.ema[i].Data = m.ema[i].Data, p.Data
		}
	}
	swap()
	restore, err := m.standingStats()
	undo = func() {
		restore()
		swap()
	}
	if err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}

// render draws n images of class k (k < 0: classes in turn) from G, with
// noise of scale temp.
func (m *GAN) render(n, k int, temp float64, rng *rand.Rand) (sample.Images, error) {
	undo, err := m.useAverage()
	if err != nil {
		return sample.Images{}, err
	}
	defer undo()
	prog, z, onehot, out, err := m.generator(false)
	if err != nil {
		return sample.Images{}, err
	}
	defer prog.Close()
	dim := imageSize(m.Net)
	side := m.common.Data.ImageSide()
	return sample.Fill(n, side, side, func(dst []float32, lo, rows int) error {
		models.FillNormal(z, rng)
		if temp != 1 {
			for i := range z {
				z[i] *= float32(temp)
			}
		}
		if onehot != nil {
			fillClasses(onehot, m.oneHotWidth(), lo, m.classOf(k))
		}
		if err := prog.Run(); err != nil {
			return err
		}
		for i, v := range prog.Value(out)[:rows*dim] {
			dst[i] = (v + 1) / 2
		}
		return nil
	})
}

// fillClasses writes into dst, rows of width, the one-hot of image
// first+row's class.
func fillClasses(dst []float32, width, first int, classOf func(int) int) {
	clear(dst)
	for r := range len(dst) / width {
		dst[r*width+classOf(first+r)] = 1
	}
}

// Kinds implements models.Model. A conditional GAN's grid has a class per
// column, an InfoGAN's a code per column.
func (m *GAN) Kinds() []sample.Kind {
	return []sample.Kind{{Name: "prior", Takes: sample.TakesClass | sample.TakesCode | sample.TakesTemperature}}
}

// Classes implements models.Model: the classes of a conditional GAN (0
// when it is not conditional).
func (m *GAN) Classes(sample.Request) int { return m.Net.Classes() }

// Draw implements models.Model: the classes (or InfoGAN codes) in turn, or
// the one class or code asked for, at the request's temperature (1 if none).
func (m *GAN) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	temp, err := models.Temperature(req, 1)
	if err != nil {
		return sample.Drawing{}, err
	}
	k := req.Class
	if req.Code >= 0 {
		codes := m.Net.Codes()
		if codes == 0 {
			return sample.Drawing{}, fmt.Errorf("--code: the %s has no InfoGAN code: train a dcgan with dcgan.info_codes=10", m.name)
		}
		if req.Code >= codes {
			return sample.Drawing{}, fmt.Errorf("--code: the model's codes are 0 to %d, got %d", codes-1, req.Code)
		}
		k = req.Code // a model with codes has no classes
	}
	imgs, err := m.generate(req.N, k, temp, rng)
	grid := sample.DefaultGridOptions()
	if k < 0 {
		grid = m.GridOptions()
	}
	return sample.Drawing{Images: imgs, Grid: grid}, err
}

// imageSize is the number of pixels of one image of the pair.
func imageSize(net nets.Adversarial) int {
	n := 1
	for _, d := range net.ImageShape(1) {
		n *= d
	}
	return n
}

// GridOptions lays out sample grids: a conditional model draws the classes
// (an InfoGAN model its codes) in turn, so its grid has one per column.
func (m *GAN) GridOptions() sample.GridOptions {
	opt := sample.DefaultGridOptions()
	if w := m.oneHotWidth(); w > 0 {
		opt.NRow = w
	}
	return opt
}

// generator compiles G for sample.ChunkSize images: its noise and one-hot
// inputs (onehot nil without classes or codes) and its output. train runs
// its batch normalizations in training mode, as standingStats needs.
func (m *GAN) generator(train bool) (prog *graphs.Program, z, onehot []float32, out *G.Node, err error) {
	b, z, onehot, out, err := nets.BuildGANGenerator(m.Net, sample.ChunkSize, train)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	prog, err = graphs.Compile(b, nil, graphs.Outputs{out})
	return prog, z, onehot, out, err
}
