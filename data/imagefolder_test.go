package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.WriteFile(path, encodePNG(t, img), 0o644); err != nil {
		t.Fatal(err)
	}
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// folderImages are the image files of TestLoadImageFolder, in name order,
// with the mean value each must load as; FuzzLoadImageFolder starts from
// them too.
func folderImages(tb testing.TB) []struct {
	name     string
	content  []byte
	wantMean float32
} {
	// a.png: white RGBA, 8x8 -> every pixel 1.
	white := image.NewRGBA(image.Rect(0, 0, 8, 8))
	uniform(white, color.White)

	// b.PNG: 8-bit gray 2x2 checkerboard of 0 and 255 -> 0.5 everywhere
	// at size 1, and unchanged at size 2.
	checker := image.NewGray(image.Rect(0, 0, 2, 2))
	checker.SetGray(0, 0, color.Gray{255})
	checker.SetGray(1, 1, color.Gray{255})

	// c.png: pure red NRGBA at half opacity, with bounds not at the
	// origin -> luma 0.299 * alpha 128/255.
	red := image.NewNRGBA(image.Rect(3, 5, 7, 9))
	uniform(red, color.NRGBA{255, 0, 0, 128})

	// d.jpeg: mid-gray JPEG.
	gray := image.NewGray(image.Rect(0, 0, 16, 16))
	uniform(gray, color.Gray{128})

	return []struct {
		name     string
		content  []byte
		wantMean float32
	}{
		{"a.png", encodePNG(tb, white), 1},
		{"b.PNG", encodePNG(tb, checker), 0.5},
		{"c.png", encodePNG(tb, red), 0.299 * 128 / 255},
		{"d.jpeg", encodeJPEG(tb, gray), 128.0 / 255},
	}
}

// hugeJPEG is a JPEG of a few hundred bytes whose header claims 65535 x
// 65535 pixels: its frame header's size fields are overwritten, which
// nothing in the format checks.
func hugeJPEG(tb testing.TB) []byte {
	b := encodeJPEG(tb, image.NewGray(image.Rect(0, 0, 8, 8)))
	sof := bytes.Index(b, []byte{0xff, 0xc0}) // marker, length(2), precision(1), height(2), width(2)
	if sof < 0 {
		tb.Fatal("no SOF0 marker in the encoded JPEG")
	}
	copy(b[sof+5:], []byte{0xff, 0xff, 0xff, 0xff})
	return b
}

// hugePNG is a small PNG whose header claims w x h pixels, its checksum
// recomputed so that the decoder believes it.
func hugePNG(tb testing.TB, w, h uint32) []byte {
	b := encodePNG(tb, image.NewGray(image.Rect(0, 0, 8, 8)))
	// Signature (8), then IHDR: length (4), type (4), width, height, ...
	// (13 data bytes), CRC of type and data (4).
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func uniform(img interface {
	image.Image
	Set(x, y int, c color.Color)
}, c color.Color) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			img.Set(x, y, c)
		}
	}
}

func near(a, b, tol float32) bool { return math.Abs(float64(a-b)) <= float64(tol) }

func TestLoadImageFolder(t *testing.T) {
	dir := t.TempDir()
	var wantMean []float32
	for _, img := range folderImages(t) {
		if err := os.WriteFile(filepath.Join(dir, img.name), img.content, 0o644); err != nil {
			t.Fatal(err)
		}
		wantMean = append(wantMean, img.wantMean)
	}

	// Ignored: other extensions and subfolders.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, size := range []int{1, 2, 4, 12} {
		d, err := LoadImageFolder(dir, size)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != 4 || d.H != size || d.W != size || len(d.Pixels) != 4*size*size || d.Labels != nil || d.Name != dir {
			t.Fatalf("size %d: got N=%d %dx%d, %d pixels, labels %v, name %q", size, d.N, d.H, d.W, len(d.Pixels), d.Labels, d.Name)
		}
		for i := range d.N {
			var sum float32
			for _, v := range d.Image(i) {
				if v < 0 || v > 1 {
					t.Fatalf("size %d image %d: value %v outside [0,1]", size, i, v)
				}
				sum += v
			}
			if mean := sum / float32(size*size); !near(mean, wantMean[i], 0.01) {
				t.Errorf("size %d image %d: mean %v, want %v", size, i, mean, wantMean[i])
			}
		}
		for _, v := range d.Image(0) {
			if v != 1 {
				t.Fatalf("size %d: white image has value %v, want exactly 1", size, v)
			}
		}
		if size == 1 && d.Image(1)[0] != 0.5 {
			t.Errorf("checker downsampled to 1x1 = %v, want 0.5", d.Image(1)[0])
		}
		if size == 2 {
			if got := d.Image(1); got[0] != 1 || got[1] != 0 || got[2] != 0 || got[3] != 1 {
				t.Errorf("checker at its own size = %v, want [1 0 0 1]", got)
			}
		}
	}
}

func TestResampleTaps(t *testing.T) {
	// 4 -> 2: pairs, exact halves.
	d := make([]float32, 2)
	resize(d, 1, 2, []float32{0, 1, 0.5, 0.25}, 1, 4)
	if d[0] != 0.5 || d[1] != 0.375 {
		t.Errorf("4->2 box = %v, want [0.5 0.375]", d)
	}
	// 3 -> 2: output 0 covers inputs 0 and half of 1.
	resize(d, 1, 2, []float32{0, 0.75, 0.3}, 1, 3)
	if !near(d[0], 0.25, 1e-6) || !near(d[1], 0.45, 1e-6) {
		t.Errorf("3->2 box = %v, want [0.25 0.45]", d)
	}
	// 2 -> 4 bilinear: [0, 0.25, 0.75, 1] for inputs [0, 1].
	d = make([]float32, 4)
	resize(d, 1, 4, []float32{0, 1}, 1, 2)
	want := []float32{0, 0.25, 0.75, 1}
	for i := range d {
		if !near(d[i], want[i], 1e-6) {
			t.Errorf("2->4 bilinear = %v, want %v", d, want)
			break
		}
	}
	// Taps of every output sum to 1, for shrinking and growing.
	for _, c := range [][2]int{{28, 28}, {28, 14}, {100, 7}, {7, 100}, {3, 1}, {1, 5}} {
		for o, ts := range resampleTaps(c[0], c[1]) {
			var sum float32
			for _, tp := range ts {
				if tp.src < 0 || tp.src >= c[0] || tp.weight < 0 {
					t.Errorf("%d->%d output %d: bad tap %+v", c[0], c[1], o, tp)
				}
				sum += tp.weight
			}
			if !near(sum, 1, 1e-5) {
				t.Errorf("%d->%d output %d: weights sum to %v", c[0], c[1], o, sum)
			}
		}
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	t.Run("missing dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		if _, err := LoadImageFolder(dir, 8); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("error %v, want one naming %s", err, dir)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "readme.md"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadImageFolder(dir, 8)
		if want := "data: no PNG or JPEG images in " + dir; err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
	t.Run("undecodable file", func(t *testing.T) {
		dir := t.TempDir()
		img := image.NewGray(image.Rect(0, 0, 4, 4))
		for _, name := range []string{"1.png", "3.png", "4.png"} {
			writePNG(t, filepath.Join(dir, name), img)
		}
		bad := filepath.Join(dir, "2.png")
		if err := os.WriteFile(bad, []byte("not a picture"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadImageFolder(dir, 8)
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("error %v, want one naming %s", err, bad)
		}
	})
	t.Run("bad size", func(t *testing.T) {
		if _, err := LoadImageFolder(t.TempDir(), 0); err == nil {
			t.Error("size 0 accepted")
		}
	})
}

// TestLoadImageFolderRefusesHugeImages is the regression test of a file
// whose header claims a huge image: the decoder used to allocate for it
// (4 GiB for hugeJPEG) and the process died of a fatal out-of-memory
// error instead of reporting the file.
func TestLoadImageFolderRefusesHugeImages(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		wantErr string // "" means it loads
	}{
		{"JPEG claiming 65535x65535", hugeJPEG(t), "is 65535x65535 pixels; at most 16384 a side and 67108864 in all"},
		{"PNG claiming 65535x65535", hugePNG(t, 65535, 65535), "is 65535x65535 pixels"},
		{"PNG claiming 8193x8192", hugePNG(t, 8193, 8192), "is 8193x8192 pixels"},
		{"PNG one pixel wide and too tall", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, maxImageSide+1))), "is 1x16385 pixels"},
		{"PNG one pixel wide at the limit", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, maxImageSide))), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "big.jpg")
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadImageFolder(dir, 4)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one naming %s and containing %q", err, path, tt.wantErr)
			}
		})
	}
}

// FuzzLoadImageFolder loads a folder holding one file of arbitrary bytes,
// at an arbitrary size from 1 to 32. It must not panic, and an error must
// name the file. A loaded image must have size x size values in [0,1], and
// written back as a 16-bit gray PNG it must load again to the same values
// (resizing to the same size is the identity) within 16-bit rounding.
func FuzzLoadImageFolder(f *testing.F) {
	for i, img := range folderImages(f) {
		f.Add(img.content, uint8(i*5))
	}
	palette := image.NewPaletted(image.Rect(0, 0, 3, 5), color.Palette{color.Black, color.White, color.RGBA{200, 10, 10, 255}})
	palette.SetColorIndex(1, 2, 2)
	deep := image.NewGray16(image.Rect(0, 0, 5, 3))
	deep.SetGray16(4, 2, color.Gray16{0x1234})
	colour := image.NewRGBA(image.Rect(0, 0, 17, 9)) // chroma-subsampled as JPEG
	uniform(colour, color.RGBA{10, 200, 30, 255})
	for _, seed := range []struct {
		content []byte
		size    uint8
	}{
		{encodePNG(f, palette), 6},
		{encodePNG(f, deep), 2},
		{encodeJPEG(f, colour), 27},
		{encodePNG(f, image.NewGray(image.Rect(0, 0, 1, 1))), 31},
		{[]byte("not a picture"), 8},
		{nil, 0},
		{hugeJPEG(f), 3},
		{hugePNG(f, 65535, 65535), 3},
	} {
		f.Add(seed.content, seed.size)
	}
	// One folder for every input, the file rewritten each time: a fresh
	// t.TempDir per input slows the fuzzer down several times. A worker
	// process runs its inputs one at a time, so they cannot collide.
	dir := f.TempDir()
	path := filepath.Join(dir, "img.png")
	f.Fuzz(func(t *testing.T, content []byte, size uint8) {
		side := int(size%32) + 1
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := LoadImageFolder(dir, side)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name %s", err, path)
			}
			return
		}
		if d.N != 1 || d.H != side || d.W != side || len(d.Pixels) != side*side {
			t.Fatalf("loaded N=%d %dx%d with %d values, want one %dx%d image", d.N, d.H, d.W, len(d.Pixels), side, side)
		}
		again := image.NewGray16(image.Rect(0, 0, side, side))
		for i, v := range d.Pixels {
			if !(v >= 0 && v <= 1) { // NaN fails too
				t.Fatalf("value %d is %v, outside [0,1]", i, v)
			}
			again.SetGray16(i%side, i/side, color.Gray16{uint16(v*65535 + 0.5)})
		}
		if err := os.WriteFile(path, encodePNG(t, again), 0o644); err != nil {
			t.Fatal(err)
		}
		d2, err := LoadImageFolder(dir, side)
		if err != nil {
			t.Fatalf("the loaded image written as PNG does not load: %v", err)
		}
		for i, v := range d2.Pixels {
			if !near(v, d.Pixels[i], 1.0/65535) {
				t.Fatalf("value %d loads as %v, then %v after writing it as PNG", i, d.Pixels[i], v)
			}
		}
	})
}
