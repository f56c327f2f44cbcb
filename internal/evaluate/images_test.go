package evaluate

import (
	"path/filepath"
	"testing"

	"github.com/genmodel/genmodel/internal/sample"
)

// TestLoadImagesFromGrid writes grids of several widths and reads their
// tiles back, dropping the empty slots that end the last row.
func TestLoadImagesFromGrid(t *testing.T) {
	for _, c := range []struct{ n, nrow int }{{64, 8}, {7, 10}, {20, 10}, {1, 8}} {
		imgs := sample.Images{N: c.n, H: 28, W: 28, Pix: make([]float32, c.n*784)}
		for i := range imgs.Pix {
			imgs.Pix[i] = float32((i*7)%11) / 10
		}
		opt := sample.DefaultGridOptions()
		opt.NRow = c.nrow
		path := filepath.Join(t.TempDir(), "grid.png")
		if err := sample.SaveGrid(path, imgs, opt); err != nil {
			t.Fatal(err)
		}
		got, err := LoadImages(path)
		if err != nil {
			t.Fatalf("n=%d nrow=%d: %v", c.n, c.nrow, err)
		}
		if got.N != c.n {
			t.Fatalf("n=%d nrow=%d: read %d images", c.n, c.nrow, got.N)
		}
		for i, v := range got.Pix {
			if want := float32(sample.ToByte(imgs.Pix[i], 0, 1)) / 255; v != want {
				t.Fatalf("n=%d nrow=%d: pixel %d = %v, want %v", c.n, c.nrow, i, v, want)
			}
		}
	}
}
