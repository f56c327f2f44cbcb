package flow

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// Samples implements train.Sampler at the configured temperature.
func (m *Flow) Samples(n int, rng *rand.Rand) (sample.Images, error) {
	imgs, _, err := m.samplesAt(n, m.temp, rng)
	return imgs, err
}

// samplesAt draws n images with latents from N(0, temp^2 I) and says how
// many had pixels that were not numbers (drawn black): the inverse
// overflowed far from the data.
func (m *Flow) samplesAt(n int, temp float64, rng *rand.Rand) (imgs sample.Images, nonFinite int, err error) {
	b, draw, out, err := m.net.sampler(min(n, sample.ChunkSize))
	if err != nil {
		return sample.Images{}, 0, err
	}
	prog, err := graphs.Compile(b, nil, graphs.Outputs{out})
	if err != nil {
		return sample.Images{}, 0, err
	}
	defer prog.Close()
	d := m.net.dims()
	imgs, err = sample.Fill(n, m.side, m.side, func(dst []float32, _, rows int) error {
		if err := draw(temp, rng); err != nil {
			return err
		}
		if err := prog.Run(); err != nil {
			return err
		}
		pix := prog.Value(out)
		for r := range rows {
			if m.pre.inverse(dst[r*d:(r+1)*d], pix[r*d:(r+1)*d]) > 0 {
				nonFinite++
			}
		}
		return nil
	})
	return imgs, nonFinite, err
}

// Kinds implements models.Model: samples, or rows of samples at
// temperatures 0.5 to 1.
func (m *Flow) Kinds() []sample.Kind {
	return []sample.Kind{
		{Name: "prior", Takes: sample.TakesTemperature},
		{Name: "temperatures", Grid: true},
	}
}

// Classes implements models.Model: the flows are unconditional.
func (m *Flow) Classes(sample.Request) int { return 0 }

// Draw implements models.Model. The prior's facts count the samples whose
// inverse overflowed.
func (m *Flow) Draw(req sample.Request, rng *rand.Rand) (sample.Drawing, error) {
	switch req.Kind {
	case "prior":
		temp, err := models.Temperature(req, m.temp)
		if err != nil {
			return sample.Drawing{}, err
		}
		imgs, nonFinite, err := m.samplesAt(req.N, temp, rng)
		return sample.Drawing{Images: imgs, Grid: sample.DefaultGridOptions(),
			Facts: []sample.Fact{{Name: "nonfinite_samples", Value: nonFinite}}}, err
	case "temperatures":
		per := max(1, int(math.Ceil(float64(req.N)/float64(len(gridTemperatures)))))
		return temperatureGrid(per, func(n int, t float64) (sample.Images, error) {
			imgs, _, err := m.samplesAt(n, t, rng)
			return imgs, err
		})
	}
	return sample.Drawing{}, fmt.Errorf("the %s has no %q picture", m.name, req.Kind)
}

func fillScaledNormal(dst []float32, t float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(t * rng.NormFloat64())
	}
}

// gridTemperatures are the rows of the "temperatures" picture.
var gridTemperatures = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1.0}

// temperatureGrid draws per samples at each of gridTemperatures, a row per
// temperature, with draw(n, T).
func temperatureGrid(per int, draw func(n int, t float64) (sample.Images, error)) (sample.Drawing, error) {
	var all sample.Images
	for _, t := range gridTemperatures {
		imgs, err := draw(per, t)
		if err != nil {
			return sample.Drawing{}, err
		}
		if all.N == 0 {
			all = sample.Images{H: imgs.H, W: imgs.W}
		}
		all.N += imgs.N
		all.Pix = append(all.Pix, imgs.Pix...)
	}
	opt := sample.DefaultGridOptions()
	opt.NRow = per
	return sample.Drawing{Images: all, Grid: opt}, nil
}
