package data

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// testDataset returns n images of h x w where every pixel of image i is
// i/100, with label i%10.
func testDataset(n, h, w int) *Dataset {
	d := &Dataset{Name: "test", N: n, H: h, W: w, Pixels: make([]float32, n*h*w), Labels: make([]uint8, n)}
	for i := range n {
		for j := range h * w {
			d.Pixels[i*h*w+j] = float32(i) / 100
		}
		d.Labels[i] = uint8(i % 10)
	}
	return d
}

func TestImage(t *testing.T) {
	d := testDataset(3, 2, 2)
	img := d.Image(1)
	if len(img) != 4 || img[0] != 0.01 {
		t.Fatalf("Image(1) = %v", img)
	}
	img[0] = 0.5 // a view: writes show in the dataset
	if d.Pixels[4] != 0.5 {
		t.Error("Image does not return a view of Pixels")
	}
}

func TestLimit(t *testing.T) {
	d := testDataset(5, 2, 3)
	for _, n := range []int{-1, 0, 5, 6} {
		if got := d.Limit(n); got != d {
			t.Errorf("Limit(%d) is not d itself", n)
		}
	}
	l := d.Limit(2)
	if l.N != 2 || len(l.Pixels) != 12 || len(l.Labels) != 2 || l.H != 2 || l.W != 3 || l.Name != d.Name {
		t.Fatalf("Limit(2) = N %d, %d pixels, %d labels, %dx%d", l.N, len(l.Pixels), len(l.Labels), l.H, l.W)
	}
	if &l.Pixels[0] != &d.Pixels[0] {
		t.Error("Limit does not share storage")
	}
	if d.N != 5 {
		t.Error("Limit modified d")
	}
	l.Pixels = append(l.Pixels, 9)
	if d.Pixels[12] == 9 {
		t.Error("append on a limited dataset overwrote the original")
	}
	unlabeled := &Dataset{N: 3, H: 1, W: 1, Pixels: []float32{1, 2, 3}}
	if u := unlabeled.Limit(1); u.Labels != nil || len(u.Pixels) != 1 {
		t.Errorf("Limit on unlabeled: labels %v pixels %v", u.Labels, u.Pixels)
	}
}

func TestBinarized(t *testing.T) {
	d := &Dataset{N: 1, H: 2, W: 3, Pixels: []float32{0, 0.2, 0.5, 0.50001, 0.9, 1}, Labels: []uint8{7}}
	b := d.Binarized(0.5)
	if want := []float32{0, 0, 1, 1, 1, 1}; !slices.Equal(b.Pixels, want) {
		t.Errorf("Binarized(0.5) = %v, want %v", b.Pixels, want)
	}
	if d.Pixels[1] != 0.2 {
		t.Error("Binarized modified the original")
	}
	if b.N != 1 || b.H != 2 || b.W != 3 || !slices.Equal(b.Labels, d.Labels) {
		t.Errorf("Binarized lost shape or labels: %+v", b)
	}
}

func isPermutation(p []int, n int) bool {
	if len(p) != n {
		return false
	}
	seen := make([]bool, n)
	for _, v := range p {
		if v < 0 || v >= n || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

func TestEpochOrder(t *testing.T) {
	for _, n := range []int{0, 1, 2, 10, 1000} {
		if p := EpochOrder(42, 3, n); !isPermutation(p, n) {
			t.Errorf("EpochOrder(42, 3, %d) = %v is not a permutation", n, p)
		}
	}
	if p := EpochOrder(1, 0, -5); len(p) != 0 {
		t.Errorf("negative n: %v", p)
	}
	a := EpochOrder(7, 2, 1000)
	if !slices.Equal(a, EpochOrder(7, 2, 1000)) {
		t.Error("EpochOrder is not deterministic")
	}
	if slices.Equal(a, EpochOrder(7, 3, 1000)) {
		t.Error("same order in epochs 2 and 3")
	}
	if slices.Equal(a, EpochOrder(8, 2, 1000)) {
		t.Error("same order for seeds 7 and 8")
	}
	if slices.IsSorted(a) {
		t.Error("EpochOrder did not shuffle")
	}
	// Pinned, so that a change of algorithm (which would silently break
	// the reproducibility of resumed runs) fails here.
	want := []int{7, 6, 1, 3, 2, 4, 8, 9, 0, 5}
	if got := EpochOrder(1, 0, 10); !slices.Equal(got, want) {
		t.Errorf("EpochOrder(1, 0, 10) = %v, want %v", got, want)
	}
}

// TestBoundedUint64 checks the bounded draws are in range and roughly
// uniform.
func TestBoundedUint64(t *testing.T) {
	src := rand.NewPCG(1, 2)
	const n, draws = 6, 60000
	var counts [n]int
	for range draws {
		v := boundedUint64(src, n)
		if v >= n {
			t.Fatalf("boundedUint64(%d) = %d", n, v)
		}
		counts[v]++
	}
	for v, c := range counts {
		if c < draws/n*9/10 || c > draws/n*11/10 {
			t.Errorf("value %d drawn %d times of %d, want about %d", v, c, draws, draws/n)
		}
	}
}

func TestNumBatches(t *testing.T) {
	tests := []struct{ n, bs, want int }{
		{60000, 64, 937}, {64, 64, 1}, {63, 64, 0}, {128, 64, 2}, {10, 0, 0}, {10, -1, 0}, {0, 5, 0},
	}
	for _, tc := range tests {
		if got := NumBatches(tc.n, tc.bs); got != tc.want {
			t.Errorf("NumBatches(%d, %d) = %d, want %d", tc.n, tc.bs, got, tc.want)
		}
	}
}

func TestFillBatch(t *testing.T) {
	d := testDataset(10, 2, 2)
	order := []int{9, 3, 0, 7, 1, 2, 4, 5, 6, 8}
	const bs = 3
	dst := make([]float32, bs*4)
	lbl := make([]uint8, bs)
	tests := []struct {
		batch int
		want  []int
	}{{0, []int{9, 3, 0}}, {1, []int{7, 1, 2}}, {2, []int{4, 5, 6}}}
	for _, tc := range tests {
		d.FillBatch(dst, lbl, order, tc.batch, bs)
		for k, i := range tc.want {
			if !slices.Equal(dst[k*4:(k+1)*4], d.Image(i)) {
				t.Errorf("batch %d slot %d = %v, want image %d %v", tc.batch, k, dst[k*4:(k+1)*4], i, d.Image(i))
			}
			if lbl[k] != d.Labels[i] {
				t.Errorf("batch %d slot %d label %d, want %d", tc.batch, k, lbl[k], d.Labels[i])
			}
		}
	}
	// nil label destination: pixels only, no panic.
	d.FillBatch(dst, nil, order, 0, bs)
	unlabeled := &Dataset{N: 2, H: 1, W: 1, Pixels: []float32{0.25, 0.75}}
	lbl[0] = 99
	unlabeled.FillBatch(dst[:2], lbl, []int{1, 0}, 0, 2)
	if !reflect.DeepEqual(dst[:2], []float32{0.75, 0.25}) || lbl[0] != 99 {
		t.Errorf("unlabeled batch %v labels %v", dst[:2], lbl)
	}
	if allocs := testing.AllocsPerRun(100, func() { d.FillBatch(dst, lbl, order, 1, bs) }); allocs != 0 {
		t.Errorf("FillBatch allocates %v times", allocs)
	}
	defer func() {
		if recover() == nil {
			t.Error("FillBatch with a short dst did not panic")
		}
	}()
	d.FillBatch(dst[:5], lbl, order, 0, bs)
}
