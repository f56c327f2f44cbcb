package data

import (
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for image.Decode
	_ "image/png"  // registers the PNG decoder for image.Decode
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// imageFolderWorkers is how many files LoadImageFolder decodes at once.
const imageFolderWorkers = 2

// maxImagePixels and maxImageSide bound the size of an image file. The
// decoders allocate the whole image from the size in its header before
// reading any pixel data, so without a bound a corrupt or hostile file of a
// few hundred bytes (a JPEG claiming 65535 x 65535) makes the process try
// to allocate gigabytes and die of a fatal out-of-memory error instead of
// reporting the file. The side bound keeps resize's intermediate image and
// filter taps, which grow with the height and width, small too (a valid PNG
// of 1 x 2^26 pixels compresses to a few hundred kilobytes). 2^26 pixels
// (8192 x 8192) is far beyond any image worth resizing to a model's input,
// and decodes in well under a gigabyte.
const (
	maxImagePixels = 1 << 26
	maxImageSide   = 1 << 14
)

// LoadImageFolder loads every .png, .jpg and .jpeg file (extension in any
// case) directly in dir, not in subfolders, in file-name order, as a
// dataset of size x size grayscale images without labels.
//
// Color is converted to ITU-R 601 luma (0.299R + 0.587G + 0.114B) on the
// 16-bit values of image/color. Those values are alpha-premultiplied, so a
// transparent pixel counts as black, exactly as image/color's Gray16Model.
// Images are resized (aspect ratio not kept) per axis: an axis that shrinks
// or keeps its size uses area averaging (a box filter, exact for integer
// factors); an axis that grows uses bilinear interpolation between pixel
// centers.
//
// The file format is detected from the content, so a file decodes whatever
// its extension says as long as it is a PNG or JPEG. An image larger than
// 8192 x 8192 pixels in all, or 16384 pixels on a side, is an error.
func LoadImageFolder(dir string, size int) (*Dataset, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: image size must be positive, got %d", size)
	}
	entries, err := os.ReadDir(dir) // sorted by file name
	if err != nil {
		return nil, fmt.Errorf("data: reading image folder: %w", err)
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg":
			if !e.IsDir() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("data: no PNG or JPEG images in %s", dir)
	}
	hw := size * size
	d := &Dataset{Name: dir, N: len(files), H: size, W: size, Pixels: make([]float32, len(files)*hw)}
	// Each worker takes every imageFolderWorkers-th file and writes only
	// its own images, so the result does not depend on scheduling; on
	// failure the error of the first bad file in name order is returned.
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for w := range min(imageFolderWorkers, len(files)) {
		wg.Go(func() {
			for i := w; i < len(files); i += imageFolderWorkers {
				errs[i] = loadImageFile(files[i], size, d.Pixels[i*hw:(i+1)*hw])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

// loadImageFile decodes path and writes it into dst as size x size
// grayscale values.
func loadImageFile(path string, size int, dst []float32) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	// Read the header alone first, to refuse absurd sizes before the
	// decoder allocates for them.
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("data: decoding image %s: %w", path, err)
	}
	if cfg.Width > maxImageSide || cfg.Height > maxImageSide ||
		(cfg.Width > 0 && cfg.Height > maxImagePixels/cfg.Width) {
		return fmt.Errorf("data: image %s is %dx%d pixels; at most %d a side and %d in all are accepted",
			path, cfg.Width, cfg.Height, maxImageSide, maxImagePixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("data: decoding image %s: %w", path, err)
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("data: image %s is empty", path)
	}
	resize(dst, size, size, luma(img), b.Dy(), b.Dx())
	return nil
}

// luma returns img as row-major grayscale values in [0,1].
func luma(img image.Image) []float32 {
	b := img.Bounds()
	out := make([]float32, 0, b.Dx()*b.Dy())
	if g, ok := img.(*image.Gray); ok { // common case, and exact
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for _, v := range g.Pix[g.PixOffset(b.Min.X, y):g.PixOffset(b.Max.X, y)] {
				out = append(out, byteToUnit[v])
			}
		}
		return out
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA() // premultiplied, 16 bits
			v := (0.299*float32(r) + 0.587*float32(g) + 0.114*float32(bl)) / 0xffff
			out = append(out, min(v, 1))
		}
	}
	return out
}

// tap is one source sample contributing to a destination sample.
type tap struct {
	src    int
	weight float32
}

// resampleTaps returns, for each of the dst output positions along an axis
// of src input positions, the input positions and weights to combine:
// area averaging when dst <= src, bilinear interpolation when dst > src.
func resampleTaps(src, dst int) [][]tap {
	taps := make([][]tap, dst)
	if dst <= src {
		// Output d covers input interval [d*src/dst, (d+1)*src/dst).
		// Measured in units of 1/dst, all ends are integers, so the
		// weights are exact ratios of integers.
		for d := range taps {
			lo, hi := d*src, (d+1)*src
			for s := lo / dst; s*dst < hi; s++ {
				overlap := min(hi, (s+1)*dst) - max(lo, s*dst)
				taps[d] = append(taps[d], tap{s, float32(overlap) / float32(src)})
			}
		}
		return taps
	}
	for d := range taps {
		// Position of output pixel d's center in input pixel coordinates,
		// clamped so that the edges repeat the border pixels.
		x := (float64(d)+0.5)*float64(src)/float64(dst) - 0.5
		x = max(0, min(x, float64(src-1)))
		i := int(x)
		f := float32(x - float64(i))
		j := min(i+1, src-1)
		taps[d] = []tap{{i, 1 - f}, {j, f}}
	}
	return taps
}

// resize resamples the sh x sw image src into the dh x dw image dst,
// separably: first along rows, then along columns.
func resize(dst []float32, dh, dw int, src []float32, sh, sw int) {
	xt, yt := resampleTaps(sw, dw), resampleTaps(sh, dh)
	tmp := make([]float32, sh*dw)
	for y := range sh {
		row := src[y*sw : (y+1)*sw]
		for x, ts := range xt {
			var v float32
			for _, t := range ts {
				v += t.weight * row[t.src]
			}
			tmp[y*dw+x] = v
		}
	}
	for y, ts := range yt {
		for x := range dw {
			var v float32
			for _, t := range ts {
				v += t.weight * tmp[t.src*dw+x]
			}
			dst[y*dw+x] = max(0, min(v, 1)) // rounding may stray past [0,1]
		}
	}
}
