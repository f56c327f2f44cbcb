package sample

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/genmodel/genmodel/internal/atomicfile"
)

// Images is a batch of single-channel images, values in any range.
type Images struct {
	N, H, W int
	Pix     []float32 // N*H*W, image i at Pix[i*H*W:]
}

// validate reports whether the dimensions are usable and agree with Pix.
func (imgs Images) validate() error {
	if imgs.N < 0 || imgs.H < 0 || imgs.W < 0 {
		return fmt.Errorf("invalid image batch size %dx%dx%d", imgs.N, imgs.H, imgs.W)
	}
	// Multiply with overflow checks so absurd sizes cannot wrap around to
	// a product that happens to equal len(Pix).
	size := imgs.N
	for _, dim := range []int{imgs.H, imgs.W} {
		if dim != 0 && size > math.MaxInt/dim {
			return fmt.Errorf("image batch %dx%dx%d is too large", imgs.N, imgs.H, imgs.W)
		}
		size *= dim
	}
	if size != len(imgs.Pix) {
		return fmt.Errorf("image batch %dx%dx%d needs %d pixel values, have %d",
			imgs.N, imgs.H, imgs.W, size, len(imgs.Pix))
	}
	return nil
}

// GridOptions mirrors torchvision's make_grid/save_image arguments.
type GridOptions struct {
	// NRow is the number of images per grid row; values below 1 mean 8.
	NRow int
	// Padding is the number of pixels between tiles and around the grid;
	// it must not be negative.
	Padding int
	// Lo and Hi are the input values mapped to black and white; values
	// outside are clamped. Like torchvision, the divisor Hi-Lo is at least
	// 1e-5, so an empty range maps everything to black instead of dividing
	// by zero.
	Lo, Hi float32
	// PadValue is the padding's brightness in output units (0 black, 1
	// white), not in the Lo..Hi input range, because torchvision fills
	// padding after normalising the images.
	PadValue float32
}

// DefaultGridOptions returns torchvision's defaults: 8 images per row,
// 2 pixels of black padding, values in [0,1].
func DefaultGridOptions() GridOptions {
	return GridOptions{NRow: 8, Padding: 2, Lo: 0, Hi: 1, PadValue: 0}
}

func (opt GridOptions) imagesPerRow() int {
	if opt.NRow < 1 {
		return 8
	}
	return opt.NRow
}

// GridGeometry is the pixel layout of a grid of equally sized tiles.
type GridGeometry struct {
	Cols, Rows    int // tiles per row, rows of tiles
	TileW, TileH  int
	Padding       int
	Width, Height int // size of the whole grid image in pixels
}

// GridLayout computes torchvision's make_grid layout for n tiles of h x w
// pixels: min(NRow, n) columns, as many rows as needed, and Padding pixels
// between tiles and around the border. For n == 0 the grid is empty apart
// from one padding square. It panics if opt.Padding is negative.
func GridLayout(n, h, w int, opt GridOptions) GridGeometry {
	if opt.Padding < 0 {
		panic(fmt.Sprintf("sample: negative grid padding %d", opt.Padding))
	}
	g := GridGeometry{TileW: w, TileH: h, Padding: opt.Padding}
	if n > 0 {
		g.Cols = min(opt.imagesPerRow(), n)
		g.Rows = (n + g.Cols - 1) / g.Cols
	}
	g.Width = g.Cols*(w+g.Padding) + g.Padding
	g.Height = g.Rows*(h+g.Padding) + g.Padding
	return g
}

// TileOrigin returns the top-left pixel of tile i, counting row by row;
// i must be in [0, n) for the n the geometry was computed for.
func (g GridGeometry) TileOrigin(i int) (x, y int) {
	x = (i%g.Cols)*(g.TileW+g.Padding) + g.Padding
	y = (i/g.Cols)*(g.TileH+g.Padding) + g.Padding
	return x, y
}

// ToByte converts a value to a pixel like torchvision's normalisation and
// save_image: v' = (clamp(v, lo, hi) - lo) / max(hi-lo, 1e-5), then
// byte = clamp(floor(v'*255 + 0.5), 0, 255). NaN becomes 0.
func ToByte(v, lo, hi float32) uint8 {
	if v != v { // NaN
		return 0
	}
	if v < lo {
		v = lo
	} else if v > hi {
		v = hi
	}
	scale := max(hi-lo, 1e-5)
	// The conversions round each step to float32 as torch does; without
	// them Go may fuse the multiply-add and round values near .5 differently.
	scaled := float32(float32((v-lo)/scale)*255) + 0.5
	if scaled <= 0 {
		return 0
	}
	if scaled >= 255 {
		return 255
	}
	return uint8(scaled) // truncation is floor for positive values
}

// MakeGrid tiles imgs into one grayscale image as torchvision's make_grid
// followed by save_image's conversion to bytes would. Slots in an
// incomplete last row are left as padding. It panics if imgs is
// inconsistent (len(Pix) != N*H*W) or opt.Padding is negative.
func MakeGrid(imgs Images, opt GridOptions) *image.Gray {
	if err := imgs.validate(); err != nil {
		panic("sample: " + err.Error())
	}
	g := GridLayout(imgs.N, imgs.H, imgs.W, opt)
	grid := image.NewGray(image.Rect(0, 0, g.Width, g.Height))
	if pad := ToByte(opt.PadValue, 0, 1); pad != 0 {
		for i := range grid.Pix {
			grid.Pix[i] = pad
		}
	}
	tileSize := imgs.H * imgs.W
	for i := 0; i < imgs.N; i++ {
		x0, y0 := g.TileOrigin(i)
		tile := imgs.Pix[i*tileSize : (i+1)*tileSize]
		for y := 0; y < imgs.H; y++ {
			dst := grid.Pix[(y0+y)*grid.Stride+x0:][:imgs.W]
			src := tile[y*imgs.W:][:imgs.W]
			for x, v := range src {
				dst[x] = ToByte(v, opt.Lo, opt.Hi)
			}
		}
	}
	return grid
}

// SaveGrid writes imgs as one PNG grid to path, atomically replacing any
// existing file so an interrupted run never leaves a truncated image.
func SaveGrid(path string, imgs Images, opt GridOptions) error {
	if err := imgs.validate(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if opt.Padding < 0 {
		return fmt.Errorf("writing %s: negative grid padding %d", path, opt.Padding)
	}
	grid := MakeGrid(imgs, opt)
	return atomicfile.Write(path, func(w io.Writer) error {
		return png.Encode(w, grid)
	})
}

// SaveSingles writes each image as its own PNG in dir, named 00000.png,
// 00001.png, ... as the reference sampling script does, creating dir if
// needed. Values in [lo,hi] map to black..white.
func SaveSingles(dir string, imgs Images, lo, hi float32) error {
	if err := imgs.validate(); err != nil {
		return fmt.Errorf("writing images to %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		// MkdirAll may name only the ancestor that failed; say what we wanted.
		return fmt.Errorf("writing images to %s: %w", dir, err)
	}
	tileSize := imgs.H * imgs.W
	for i := 0; i < imgs.N; i++ {
		img := image.NewGray(image.Rect(0, 0, imgs.W, imgs.H))
		for j, v := range imgs.Pix[i*tileSize : (i+1)*tileSize] {
			img.Pix[j] = ToByte(v, lo, hi)
		}
		path := filepath.Join(dir, fmt.Sprintf("%05d.png", i))
		err := atomicfile.Write(path, func(w io.Writer) error {
			return png.Encode(w, img)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CutGrid is the inverse of MakeGrid: it extracts the h x w tiles of a grid
// written with the same NRow and Padding, returning values byte/255 in
// [0,1] (the Lo..Hi range is not undone). n is the number of tiles; 0 means
// every slot in the grid, deduced from the image size, in which case empty
// slots of an incomplete last row come back as padding-filled tiles. It
// fails if the image size does not fit the layout.
func CutGrid(img image.Image, n, h, w int, opt GridOptions) (Images, error) {
	if h < 1 || w < 1 {
		return Images{}, fmt.Errorf("invalid tile size %dx%d", w, h)
	}
	if n < 0 {
		return Images{}, fmt.Errorf("invalid tile count %d", n)
	}
	if opt.Padding < 0 {
		return Images{}, fmt.Errorf("negative grid padding %d", opt.Padding)
	}
	bounds := img.Bounds()
	if n == 0 {
		var err error
		if n, err = deduceTileCount(bounds.Dx(), bounds.Dy(), h, w, opt); err != nil {
			return Images{}, err
		}
	}
	g := GridLayout(n, h, w, opt)
	if bounds.Dx() != g.Width || bounds.Dy() != g.Height {
		return Images{}, fmt.Errorf("grid image is %dx%d pixels, want %dx%d for %d tiles of %dx%d with nrow %d, padding %d",
			bounds.Dx(), bounds.Dy(), g.Width, g.Height, n, w, h, opt.imagesPerRow(), opt.Padding)
	}

	grayAt := func(x, y int) uint8 {
		return color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
	}
	if gray, ok := img.(*image.Gray); ok { // what png.Decode returns for our files
		grayAt = func(x, y int) uint8 { return gray.GrayAt(x, y).Y }
	}
	out := Images{N: n, H: h, W: w, Pix: make([]float32, n*h*w)}
	for i := 0; i < n; i++ {
		x0, y0 := g.TileOrigin(i)
		tile := out.Pix[i*h*w : (i+1)*h*w]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				tile[y*w+x] = float32(grayAt(bounds.Min.X+x0+x, bounds.Min.Y+y0+y)) / 255
			}
		}
	}
	return out, nil
}

// deduceTileCount inverts the layout formula for a full grid: the size
// must be a whole number of tile strides plus the border, and more than one
// row is only possible when the rows are full NRow wide.
func deduceTileCount(width, height, h, w int, opt GridOptions) (int, error) {
	pad := opt.Padding
	cols, colRest := divmod(width-pad, w+pad)
	rows, rowRest := divmod(height-pad, h+pad)
	if cols < 1 || rows < 1 || colRest != 0 || rowRest != 0 {
		return 0, fmt.Errorf("grid image %dx%d is not a whole number of %dx%d tiles with padding %d",
			width, height, w, h, pad)
	}
	if cols > opt.imagesPerRow() || rows > 1 && cols != opt.imagesPerRow() {
		return 0, fmt.Errorf("grid image %dx%d has %d columns and %d rows, impossible with nrow %d",
			width, height, cols, rows, opt.imagesPerRow())
	}
	return cols * rows, nil
}

func divmod(a, b int) (int, int) {
	if a < 0 {
		return -1, 0
	}
	return a / b, a % b
}
