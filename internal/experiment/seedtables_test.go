package experiment

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestSamplesPictureLabelsEachGrid checks the side-by-side picture: each
// run's last grid in run order, under a caption with the run's name.
func TestSamplesPictureLabelsEachGrid(t *testing.T) {
	dir := t.TempDir()
	var rows []Row
	for i, size := range []int{30, 50} {
		name := fmt.Sprintf("run%d", i)
		samples := filepath.Join(dir, name, "samples")
		if err := os.MkdirAll(samples, 0o755); err != nil {
			t.Fatal(err)
		}
		for epoch, shade := range []uint8{10, 200} { // the last epoch's grid is the one drawn
			img := image.NewGray(image.Rect(0, 0, size, size))
			for j := range img.Pix {
				img.Pix[j] = shade
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(samples, fmt.Sprintf("epoch-%03d.png", epoch+1)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rows = append(rows, Row{Run: name, Dir: filepath.Join(dir, name)})
	}
	path := filepath.Join(dir, "samples.png")
	if err := SamplesPicture(path, rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pic, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := pic.Bounds(); b.Dx() != 30+16+50 || b.Dy() != 20+50 {
		t.Fatalf("picture %v, want 96x70", b)
	}
	gray := func(x, y int) uint32 { r, _, _, _ := pic.At(x, y).RGBA(); return r >> 8 }
	if gray(5, 25) != 200 || gray(46+5, 25) != 200 {
		t.Errorf("grids not the last epoch's: %d, %d", gray(5, 25), gray(51, 25))
	}
	inked := false
	for x := 0; x < 30; x++ {
		for y := 0; y < 20; y++ {
			inked = inked || gray(x, y) < 128
		}
	}
	if !inked {
		t.Error("no caption above the first grid")
	}
}
