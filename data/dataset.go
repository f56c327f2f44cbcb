package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Dataset is a set of equally sized grayscale images with values in [0,1].
type Dataset struct {
	Name    string    // e.g. "mnist-train", or the folder path
	N, H, W int       // number of images, height, width (channels are always 1)
	Pixels  []float32 // N*H*W values in [0,1], image i at Pixels[i*H*W:(i+1)*H*W]
	Labels  []uint8   // len N, or nil when the dataset has no labels
}

// Image returns a view (not a copy) of image i, H*W values in row-major order.
func (d *Dataset) Image(i int) []float32 {
	n := d.H * d.W
	return d.Pixels[i*n : (i+1)*n : (i+1)*n]
}

// Limit returns the first n images. If n <= 0 or n >= d.N it returns d
// itself. The result shares storage with d.
func (d *Dataset) Limit(n int) *Dataset {
	if n <= 0 || n >= d.N {
		return d
	}
	l := *d
	l.N = n
	// Three-index slices so that an append on the result can never
	// overwrite images of d beyond the limit.
	l.Pixels = d.Pixels[: n*d.H*d.W : n*d.H*d.W]
	if d.Labels != nil {
		l.Labels = d.Labels[:n:n]
	}
	return &l
}

// Binarized returns a copy of d in which pixels >= threshold are 1 and all
// others 0 (for models with Bernoulli outputs).
func (d *Dataset) Binarized(threshold float32) *Dataset {
	b := *d
	b.Pixels = make([]float32, len(d.Pixels))
	for i, v := range d.Pixels {
		if v >= threshold {
			b.Pixels[i] = 1
		}
	}
	if d.Labels != nil {
		b.Labels = append([]uint8(nil), d.Labels...)
	}
	return &b
}

// EpochOrder returns the permutation of [0,n) used in epoch `epoch` of a run
// with this seed. It is a pure function of (seed, epoch, n), so a resumed run
// needs no saved shuffler state.
//
// The generator is PCG (math/rand/v2's NewPCG(seed, epoch)), whose output
// sequence is a fixed algorithm. The shuffle (Fisher-Yates) and the bounded
// draws are implemented here rather than with rand.Shuffle/IntN so that the
// order cannot change with a future Go release; a test pins it.
func EpochOrder(seed uint64, epoch, n int) []int {
	if n <= 0 {
		return []int{}
	}
	src := rand.NewPCG(seed, uint64(epoch))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(boundedUint64(src, uint64(i)+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// boundedUint64 returns a uniform value in [0,n), n > 0, using Lemire's
// multiply-and-reject method (unbiased).
func boundedUint64(src rand.Source, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// NumBatches returns how many full batches an epoch of n images has; the
// partial last batch is dropped (as PyTorch's drop_last=True), so that every
// step sees the same batch size.
func NumBatches(n, batchSize int) int {
	if batchSize <= 0 || n <= 0 {
		return 0
	}
	return n / batchSize
}

// FillBatch copies the images order[batch*batchSize:(batch+1)*batchSize]
// into dst (len >= batchSize*H*W) and, if both d.Labels and dstLabels are
// non-nil, their labels into dstLabels (len >= batchSize). It does not
// allocate, so it can run every training step. It panics if dst or
// dstLabels is too short or the batch lies outside order, as these are
// programming errors.
func (d *Dataset) FillBatch(dst []float32, dstLabels []uint8, order []int, batch, batchSize int) {
	hw := d.H * d.W
	if len(dst) < batchSize*hw {
		panic(fmt.Sprintf("data: FillBatch: dst has %d values, need %d", len(dst), batchSize*hw))
	}
	withLabels := d.Labels != nil && dstLabels != nil
	if withLabels && len(dstLabels) < batchSize {
		panic(fmt.Sprintf("data: FillBatch: dstLabels has %d values, need %d", len(dstLabels), batchSize))
	}
	idx := order[batch*batchSize : (batch+1)*batchSize]
	for k, i := range idx {
		copy(dst[k*hw:(k+1)*hw], d.Pixels[i*hw:(i+1)*hw])
		if withLabels {
			dstLabels[k] = d.Labels[i]
		}
	}
}
