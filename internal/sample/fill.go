package sample

// ChunkSize is the batch of the graphs models draw with: large enough for
// the kernels to run near full speed, small enough that sampling thousands
// of images needs no more memory than a training step.
const ChunkSize = 100

// Chunks calls visit for consecutive chunks [lo, lo+rows) of n items, each
// at most size long, in order, and stops at the first error.
func Chunks(n, size int, visit func(lo, rows int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := visit(lo, min(size, n-lo)); err != nil {
			return err
		}
	}
	return nil
}

// Fill makes a set of n images of h x w drawn ChunkSize at a time: draw
// writes images lo..lo+rows-1 into dst, that chunk's pixels. It is the one
// drawing loop of every family; each compiles its graph once per chunk
// size and maps its network's output into dst.
func Fill(n, h, w int, draw func(dst []float32, lo, rows int) error) (Images, error) {
	d := h * w
	imgs := Images{N: n, H: h, W: w, Pix: make([]float32, n*d)}
	err := Chunks(n, ChunkSize, func(lo, rows int) error {
		return draw(imgs.Pix[lo*d:(lo+rows)*d], lo, rows)
	})
	if err != nil {
		return Images{}, err
	}
	return imgs, nil
}
