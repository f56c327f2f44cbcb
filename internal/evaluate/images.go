package evaluate

import (
	"fmt"
	"image"
	_ "image/jpeg" // folders may hold JPEGs
	"image/png"
	"os"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/sample"
)

func imagesOf(ds *data.Dataset) sample.Images {
	return sample.Images{N: ds.N, H: ds.H, W: ds.W, Pix: ds.Pixels}
}

// LoadImages reads what `eval --images` accepts: a folder of PNG/JPEG images
// (converted to 28x28 grayscale), or one PNG grid written by genmodel or
// torchvision's save_image (28x28 tiles, 2-pixel padding), whose trailing
// empty tiles are dropped.
func LoadImages(path string) (sample.Images, error) {
	st, err := os.Stat(path)
	if err != nil {
		return sample.Images{}, fmt.Errorf("--images: %w", err)
	}
	if st.IsDir() {
		ds, err := data.LoadImageFolder(path, 28)
		if err != nil {
			return sample.Images{}, err
		}
		return imagesOf(ds), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return sample.Images{}, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return sample.Images{}, fmt.Errorf("%s: not a PNG grid: %v; pass a folder of images or a PNG grid", path, err)
	}
	return gridTiles(path, img)
}

func gridTiles(path string, img image.Image) (sample.Images, error) {
	// The number of columns follows from the width: a grid of any nrow
	// (genmodel's recon pictures use one column per digit) can be read.
	opt := sample.DefaultGridOptions()
	if w := img.Bounds().Dx(); w > opt.Padding {
		opt.NRow = max(1, (w-opt.Padding)/(28+opt.Padding))
	}
	tiles, err := sample.CutGrid(img, 0, 28, 28, opt)
	if err != nil {
		return sample.Images{}, fmt.Errorf("%s: %w", path, err)
	}
	// The last row of a grid may end in empty slots, which are pure padding.
	n := tiles.N
	for n > 0 && allZero(tiles.Pix[(n-1)*784:n*784]) {
		n--
	}
	if n == 0 {
		return sample.Images{}, fmt.Errorf("%s: the grid holds no images", path)
	}
	tiles.N, tiles.Pix = n, tiles.Pix[:n*784]
	return tiles, nil
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
