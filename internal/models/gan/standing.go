package gan

import (
	"math/rand/v2"
	"slices"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// standingStats sets the statistics of G's batch normalizations to their
// means over standingBatches batches of z ~ N(0, I), the "standing
// statistics" of BigGAN (Brock et al. 2019), for the weights now bound (the
// average's). The running statistics belong to the trained weights, not the
// average, and a batch's own statistics would make each image depend on the
// others of its batch and normalize a temperature away. The noise comes from
// a fixed seed, so samples depend on the caller's noise alone. restore puts
// the previous statistics back.
func (m *GAN) standingStats() (restore func(), err error) {
	norms := m.Net.GenNorms()
	var stats []*graphs.Param
	for _, bn := range norms {
		stats = append(stats, bn.RunningMean, bn.RunningVar, bn.NumBatchesTracked)
	}
	saved := snapshot(stats)
	restore = func() {
		for i, p := range stats {
			copy(p.Data, saved[i])
		}
	}
	if len(norms) == 0 {
		return restore, nil
	}
	momentum := norms[0].Momentum
	defer func() {
		for _, bn := range norms {
			bn.Momentum = momentum
		}
	}()
	prog, z, onehot, _, err := m.generator(true)
	if err != nil {
		return restore, err
	}
	defer prog.Close()
	rng := rand.New(rand.NewPCG(standingSeed, 0))
	width, classOf := m.oneHotWidth(), m.classOf(-1)
	for i := range standingBatches {
		for _, bn := range norms {
			bn.Momentum = 1 / float64(i+1) // the running value becomes the mean of the batches' values
		}
		models.FillNormal(z, rng)
		if onehot != nil {
			fillClasses(onehot, width, i*sample.ChunkSize, classOf)
		}
		if err := prog.Run(); err != nil {
			return restore, err
		}
	}
	return restore, nil
}

// snapshot copies the tensors' values.
func snapshot(ps []*graphs.Param) [][]float32 {
	out := make([][]float32, len(ps))
	for i, p := range ps {
		out[i] = slices.Clone(p.Data)
	}
	return out
}

// standingBatches batches of sample.ChunkSize images give the standing statistics,
// from noise of seed standingSeed.
const (
	standingBatches = 20
	standingSeed    = 0x5354414e // "STAN"
)
