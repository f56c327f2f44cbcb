package sample

import (
	"image"
	"image/draw"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGridLayout(t *testing.T) {
	defaults := DefaultGridOptions()
	tests := []struct {
		name                string
		n, h, w             int
		opt                 GridOptions
		wantCols, wantRows  int
		wantWidth, wantHigh int
		tile                int
		wantX, wantY        int
	}{
		{"full 8x8 grid, first tile", 64, 28, 28, defaults, 8, 8, 242, 242, 0, 2, 2},
		{"full 8x8 grid, last tile", 64, 28, 28, defaults, 8, 8, 242, 242, 63, 212, 212},
		{"n=10 wraps to a second row", 10, 28, 28, defaults, 8, 2, 242, 62, 9, 32, 32},
		{"n=10 eighth tile ends row one", 10, 28, 28, defaults, 8, 2, 242, 62, 7, 212, 2},
		{"single image", 1, 28, 28, defaults, 1, 1, 32, 32, 0, 2, 2},
		{"fewer images than nrow", 3, 28, 28, defaults, 3, 1, 92, 32, 2, 62, 2},
		{"non-square tiles, no padding", 3, 2, 5, GridOptions{NRow: 2, Hi: 1}, 2, 2, 10, 4, 2, 0, 2},
		{"zero NRow means 8", 9, 1, 1, GridOptions{Padding: 1, Hi: 1}, 8, 2, 17, 5, 8, 1, 3},
		{"wide padding", 2, 4, 4, GridOptions{NRow: 1, Padding: 5, Hi: 1}, 1, 2, 14, 23, 1, 5, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := GridLayout(tt.n, tt.h, tt.w, tt.opt)
			if g.Cols != tt.wantCols || g.Rows != tt.wantRows {
				t.Errorf("grid %dx%d tiles, want %dx%d", g.Cols, g.Rows, tt.wantCols, tt.wantRows)
			}
			if g.Width != tt.wantWidth || g.Height != tt.wantHigh {
				t.Errorf("size %dx%d, want %dx%d", g.Width, g.Height, tt.wantWidth, tt.wantHigh)
			}
			if x, y := g.TileOrigin(tt.tile); x != tt.wantX || y != tt.wantY {
				t.Errorf("TileOrigin(%d) = (%d,%d), want (%d,%d)", tt.tile, x, y, tt.wantX, tt.wantY)
			}
		})
	}
}

func TestGridLayoutEmpty(t *testing.T) {
	g := GridLayout(0, 28, 28, DefaultGridOptions())
	if g.Cols != 0 || g.Rows != 0 || g.Width != 2 || g.Height != 2 {
		t.Errorf("empty layout %+v, want 0x0 tiles in a 2x2 image", g)
	}
}

func TestToByte(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		v      float32
		lo, hi float32
		want   uint8
	}{
		{"below lo clamps to black", -0.5, 0, 1, 0},
		{"above hi clamps to white", 3, 0, 1, 255},
		{"lo is black", 0, 0, 1, 0},
		{"hi is white", 1, 0, 1, 255},
		{"midpoint rounds up to 128", 0.5, 0, 1, 128},
		{"one step", 1.0 / 255, 0, 1, 1},
		{"just under half a step rounds down", 0.49 / 255, 0, 1, 0},
		{"just over half a step rounds up", 0.51 / 255, 0, 1, 1},
		{"symmetric range midpoint", 0, -1, 1, 128},
		{"symmetric range three quarters", 0.5, -1, 1, 191},
		{"symmetric range below", -7, -1, 1, 0},
		{"NaN is black", nan, 0, 1, 0},
		{"+Inf is white", inf, 0, 1, 255},
		{"-Inf is black", -inf, 0, 1, 0},
		{"empty range at lo", 2, 2, 2, 0},
		{"empty range maps everything to black", 2.5, 2, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToByte(tt.v, tt.lo, tt.hi); got != tt.want {
				t.Errorf("ToByte(%v, %v, %v) = %d, want %d", tt.v, tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

func TestMakeGridPixels(t *testing.T) {
	imgs := Images{N: 2, H: 2, W: 3, Pix: []float32{
		-1, 0, 1, // image 0
		-2, 2, 0.5,
		1, 1, 1, // image 1
		-1, -1, -1,
	}}
	opt := GridOptions{NRow: 8, Padding: 1, Lo: -1, Hi: 1, PadValue: 1}
	const P = 255 // white padding
	want := []uint8{
		P, P, P, P, P, P, P, P, P,
		P, 0, 128, 255, P, 255, 255, 255, P,
		P, 0, 255, 191, P, 0, 0, 0, P,
		P, P, P, P, P, P, P, P, P,
	}
	grid := MakeGrid(imgs, opt)
	if grid.Bounds() != image.Rect(0, 0, 9, 4) {
		t.Fatalf("bounds %v, want 9x4", grid.Bounds())
	}
	if !slices.Equal(grid.Pix, want) {
		t.Errorf("pixels\n%v\nwant\n%v", grid.Pix, want)
	}
}

func TestMakeGridDefaultLayoutPixels(t *testing.T) {
	// Each tile is filled with a distinct grey so a misplaced tile shows.
	const n, side = 10, 28
	imgs := Images{N: n, H: side, W: side, Pix: make([]float32, n*side*side)}
	for i := range n {
		for j := range side * side {
			imgs.Pix[i*side*side+j] = float32(i+1) / 20
		}
	}
	grid := MakeGrid(imgs, DefaultGridOptions())
	tileGrey := func(i int) uint8 { return ToByte(float32(i+1)/20, 0, 1) }
	tests := []struct {
		name string
		x, y int
		want uint8
	}{
		{"border corner is padding", 0, 0, 0},
		{"inner border is padding", 1, 1, 0},
		{"tile 0 top-left", 2, 2, tileGrey(0)},
		{"tile 0 bottom-right", 29, 29, tileGrey(0)},
		{"gap after tile 0", 30, 2, 0},
		{"gap below tile 0", 2, 30, 0},
		{"tile 1 top-left", 32, 2, tileGrey(1)},
		{"tile 7 bottom-right", 239, 29, tileGrey(7)},
		{"right border", 241, 10, 0},
		{"tile 8 top-left", 2, 32, tileGrey(8)},
		{"tile 9 bottom-right", 59, 59, tileGrey(9)},
		{"empty slot in last row is padding", 100, 40, 0},
		{"bottom border", 10, 61, 0},
	}
	for _, tt := range tests {
		if got := grid.GrayAt(tt.x, tt.y).Y; got != tt.want {
			t.Errorf("%s: pixel (%d,%d) = %d, want %d", tt.name, tt.x, tt.y, got, tt.want)
		}
	}
}

func TestMakeGridPanicsOnInconsistentImages(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "needs 8 pixel values, have 7") {
			t.Errorf("panic %v, want one about the pixel count", r)
		}
	}()
	MakeGrid(Images{N: 2, H: 2, W: 2, Pix: make([]float32, 7)}, DefaultGridOptions())
}

// randomImages has values beyond [0,1] so clamping is part of the round trip.
func randomImages(n, h, w int) Images {
	rng := rand.New(rand.NewPCG(1, uint64(n*1000+h*10+w)))
	imgs := Images{N: n, H: h, W: w, Pix: make([]float32, n*h*w)}
	for i := range imgs.Pix {
		imgs.Pix[i] = rng.Float32()*1.4 - 0.2
	}
	return imgs
}

func quantized(imgs Images, lo, hi float32) []float32 {
	out := make([]float32, len(imgs.Pix))
	for i, v := range imgs.Pix {
		out[i] = float32(ToByte(v, lo, hi)) / 255
	}
	return out
}

func TestCutGridRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		n, h, w int
		cutN    int // passed to CutGrid
		opt     GridOptions
	}{
		{"64 MNIST-sized tiles", 64, 28, 28, 64, DefaultGridOptions()},
		{"10 tiles, count given", 10, 28, 28, 10, DefaultGridOptions()},
		{"one tile", 1, 28, 28, 1, DefaultGridOptions()},
		{"full grid, count deduced", 16, 5, 7, 0, DefaultGridOptions()},
		{"single row, count deduced", 3, 5, 7, 0, DefaultGridOptions()},
		{"no padding, nrow 3", 7, 4, 6, 7, GridOptions{NRow: 3, Lo: 0, Hi: 1}},
		{"custom range", 5, 3, 3, 5, GridOptions{NRow: 2, Padding: 3, Lo: -0.2, Hi: 1.2, PadValue: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imgs := randomImages(tt.n, tt.h, tt.w)
			got, err := CutGrid(MakeGrid(imgs, tt.opt), tt.cutN, tt.h, tt.w, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got.N != tt.n || got.H != tt.h || got.W != tt.w {
				t.Fatalf("cut %dx%dx%d, want %dx%dx%d", got.N, got.H, got.W, tt.n, tt.h, tt.w)
			}
			if want := quantized(imgs, tt.opt.Lo, tt.opt.Hi); !slices.Equal(got.Pix, want) {
				t.Error("cut tiles differ from the quantized inputs")
			}
		})
	}
}

func TestCutGridDeducedCountIncludesEmptySlots(t *testing.T) {
	opt := DefaultGridOptions()
	opt.PadValue = 1
	imgs := randomImages(10, 4, 4)
	got, err := CutGrid(MakeGrid(imgs, opt), 0, 4, 4, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 16 {
		t.Fatalf("deduced %d tiles, want 16 slots", got.N)
	}
	if !slices.Equal(got.Pix[:10*16], quantized(imgs, 0, 1)) {
		t.Error("first 10 tiles differ from the inputs")
	}
	for i, v := range got.Pix[10*16:] {
		if v != 1 {
			t.Fatalf("empty slot pixel %d = %v, want padding value 1", i, v)
		}
	}
}

func TestCutGridAcceptsAnyImageType(t *testing.T) {
	opt := DefaultGridOptions()
	imgs := randomImages(3, 5, 5)
	gray := MakeGrid(imgs, opt)
	// An RGBA copy placed away from the origin, as a decoder or SubImage
	// might return it.
	offset := image.Pt(7, 3)
	rgba := image.NewRGBA(gray.Bounds().Add(offset))
	draw.Draw(rgba, rgba.Bounds(), gray, image.Point{}, draw.Src)
	got, err := CutGrid(rgba, 3, 5, 5, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Pix, quantized(imgs, 0, 1)) {
		t.Error("tiles from an RGBA image differ from the inputs")
	}
}

func TestCutGridRejectsInconsistentSizes(t *testing.T) {
	blank := func(w, h int) image.Image { return image.NewGray(image.Rect(0, 0, w, h)) }
	opt := DefaultGridOptions()
	tests := []struct {
		name    string
		img     image.Image
		n, h, w int
		opt     GridOptions
		wantErr string
	}{
		{"one pixel too narrow", blank(241, 242), 64, 28, 28, opt, "grid image is 241x242 pixels, want 242x242 for 64 tiles"},
		{"count does not match", blank(242, 242), 10, 28, 28, opt, "want 242x62 for 10 tiles"},
		{"deduced: not whole tiles", blank(241, 242), 0, 28, 28, opt, "not a whole number of 28x28 tiles"},
		{"deduced: smaller than padding", blank(1, 1), 0, 28, 28, opt, "not a whole number"},
		{"deduced: only padding", blank(2, 2), 0, 28, 28, opt, "not a whole number"},
		{"deduced: more columns than nrow", blank(9*30+2, 32), 0, 28, 28, opt, "9 columns and 1 rows, impossible with nrow 8"},
		{"deduced: short rows", blank(2*30+2, 62), 0, 28, 28, opt, "2 columns and 2 rows, impossible with nrow 8"},
		{"zero tile size", blank(242, 242), 0, 0, 28, opt, "invalid tile size"},
		{"negative count", blank(242, 242), -1, 28, 28, opt, "invalid tile count -1"},
		{"negative padding", blank(242, 242), 64, 28, 28, GridOptions{Padding: -1}, "negative grid padding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CutGrid(tt.img, tt.n, tt.h, tt.w, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CutGrid error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestSaveGrid(t *testing.T) {
	tests := []struct {
		name          string
		n             int
		width, height int
	}{
		{"64 tiles", 64, 242, 242},
		{"10 tiles", 10, 242, 62},
		{"1 tile", 1, 32, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "grid.png")
			imgs := randomImages(tt.n, 28, 28)
			if err := SaveGrid(path, imgs, DefaultGridOptions()); err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, path)
			if img.Bounds() != image.Rect(0, 0, tt.width, tt.height) {
				t.Fatalf("PNG bounds %v, want %dx%d", img.Bounds(), tt.width, tt.height)
			}
			got, err := CutGrid(img, tt.n, 28, 28, DefaultGridOptions())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Pix, quantized(imgs, 0, 1)) {
				t.Error("PNG tiles differ from the quantized inputs")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only grid.png", len(entries))
			}
		})
	}
}

func TestSaveGridErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		imgs    Images
		opt     GridOptions
		wantErr string
	}{
		{"missing directory", filepath.Join(dir, "missing", "grid.png"), randomImages(2, 3, 3), DefaultGridOptions(), "no such file"},
		{"inconsistent images", filepath.Join(dir, "grid.png"), Images{N: 2, H: 3, W: 3, Pix: make([]float32, 17)}, DefaultGridOptions(), "needs 18 pixel values, have 17"},
		{"negative padding", filepath.Join(dir, "grid.png"), randomImages(2, 3, 3), GridOptions{Padding: -2}, "negative grid padding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SaveGrid(tt.path, tt.imgs, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SaveGrid error = %v, want one naming %s and containing %q", err, tt.path, tt.wantErr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed saves left %d entries behind", len(entries))
	}
}

func TestSaveSingles(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		wantFiles []string
	}{
		{"none", 0, nil},
		{"three", 3, []string{"00000.png", "00001.png", "00002.png"}},
		{"crosses a digit boundary", 11, []string{
			"00000.png", "00001.png", "00002.png", "00003.png", "00004.png", "00005.png",
			"00006.png", "00007.png", "00008.png", "00009.png", "00010.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "samples", "epoch1") // created by SaveSingles
			imgs := randomImages(tt.n, 4, 6)
			if err := SaveSingles(dir, imgs, -0.2, 1.2); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, tt.wantFiles) {
				t.Fatalf("files %v, want %v", names, tt.wantFiles)
			}
			want := quantized(imgs, -0.2, 1.2)
			for i, name := range names {
				img := decodePNG(t, filepath.Join(dir, name))
				if img.Bounds() != image.Rect(0, 0, 6, 4) {
					t.Fatalf("%s: bounds %v, want 6x4", name, img.Bounds())
				}
				// A 1-tile grid with no padding is exactly one image.
				got, err := CutGrid(img, 1, 4, 6, GridOptions{NRow: 1})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Pix, want[i*24:(i+1)*24]) {
					t.Errorf("%s: pixels differ from image %d", name, i)
				}
			}
		})
	}
}

func TestSaveSinglesErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		imgs Images
	}{
		{"inconsistent images", filepath.Join(dir, "out"), Images{N: 1, H: 2, W: 2, Pix: make([]float32, 3)}},
		{"dir is a file", blocker, randomImages(1, 2, 2)},
		{"dir below a file", filepath.Join(blocker, "sub"), randomImages(1, 2, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SaveSingles(tt.dir, tt.imgs, 0, 1)
			if err == nil || !strings.Contains(err.Error(), tt.dir) {
				t.Errorf("SaveSingles error = %v, want one naming %s", err, tt.dir)
			}
		})
	}
}
