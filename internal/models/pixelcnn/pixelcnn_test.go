package pixelcnn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

var set = modeltest.Set

// small is a network a test trains and samples in seconds.
var small = []config.Override{set("pixelcnn.channels", "8"), set("pixelcnn.layers", "2"), set("pixelcnn.head", "16")}

func load(t *testing.T, overrides ...config.Override) *PixelCNN {
	t.Helper()
	return modeltest.New(t, "pixelcnn", New, nil, append(slices.Clone(small), overrides...)...).(*PixelCNN)
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		set  []config.Override
		want string
	}{
		{[]config.Override{set("pixelcnn.binarization", "fixed")}, "pixelcnn.binarization must be dynamic or threshold"},
		{[]config.Override{set("pixelcnn.kernel", "4")}, "kernels must be odd"},
		{[]config.Override{set("pixelcnn.layers", "0")}, "layers and head must be positive"},
		{[]config.Override{set("pixelcnn.conditional", "true"), set("data.dataset", "folder"), set("data.dir", "/nowhere")}, "data.dataset must be mnist"},
	}
	for _, c := range cases {
		cfg, err := config.Load("pixelcnn", "", c.set)
		if err == nil {
			_, err = (models.Entry{Name: "pixelcnn", Build: New}).New(cfg, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.set, err, c.want)
		}
	}
}

// TestTrainingLowersTheTestNLL trains briefly on real MNIST, conditional
// and not, and checks the test NLL: finite, near 784 log 2 nats before
// training (logits near 0) and far lower after.
func TestTrainingLowersTheTestNLL(t *testing.T) {
	for _, cond := range []string{"false", "true"} {
		t.Run("conditional="+cond, func(t *testing.T) {
			m := load(t, set("pixelcnn.conditional", cond), set("eval.batch_size", "100"), set("train.lr", "0.01"))
			tr, te := modeltest.MNIST(t, 200, false)
			before, err := m.TestMetrics(te, nil)
			if err != nil {
				t.Fatal(err)
			}
			rng := modeltest.RNG(7)
			b := train.Batch{X: make([]float32, 32*784), Labels: make([]uint8, 32), Size: 32, H: 28, W: 28}
			var first, last float64
			for s := range 30 {
				lo := (s * 32) % (tr.N - 32)
				copy(b.X, tr.Pixels[lo*784:(lo+32)*784])
				copy(b.Labels, tr.Labels[lo:lo+32])
				ms, err := m.TrainStep(b, int64(s), rng)
				if err != nil {
					t.Fatal(err)
				}
				if ms[0].Name != "nll" {
					t.Fatalf("metrics %v", ms)
				}
				if s == 0 {
					first = ms[0].Value
				}
				last = ms[0].Value
			}
			after, err := m.TestMetrics(te, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("train nll %.1f -> %.1f; test %v -> %v", first, last, before, after)
			if b := before[0].Value; math.Abs(b-784*math.Ln2) > 150 {
				t.Errorf("untrained test nll %.1f, want near 784 ln 2 = 543", b)
			}
			if a := after[0].Value; !(a < 0.5*before[0].Value) || a < 30 {
				t.Errorf("test nll %.1f after 30 steps, want far below %.1f", a, before[0].Value)
			}
			if bpd := after[1]; bpd.Name != "bits_per_dim" || math.Abs(bpd.Value-after[0].Value/(784*math.Ln2)) > 1e-9 {
				t.Errorf("%v, want the nll in bits per pixel", bpd)
			}
		})
	}
}

// TestTestSetBinarizationIsFixed checks that the dynamic binarization of
// the test set is one draw, the same for every model and seed, and that
// threshold binarizes at 0.5.
func TestTestSetBinarizationIsFixed(t *testing.T) {
	_, te := modeltest.MNIST(t, 50, false)
	a := slices.Clone(load(t).binaryTest(te))
	b := load(t, set("seed", "3")).binaryTest(te)
	if !slices.Equal(a, b) {
		t.Error("two models binarized the test set differently")
	}
	th := load(t, set("pixelcnn.binarization", "threshold")).binaryTest(te)
	diff := 0
	for i, p := range te.Pixels {
		if want := float32(0); p >= 0.5 {
			want = 1
			if th[i] != want {
				t.Fatalf("threshold: pixel %v -> %v", p, th[i])
			}
		}
		if a[i] != th[i] {
			diff++
		}
		if a[i] != 0 && a[i] != 1 || (p == 0 && a[i] != 0) {
			t.Fatalf("dynamic: pixel %v -> %v", p, a[i])
		}
	}
	if diff == 0 {
		t.Error("the dynamic draw equals the threshold")
	}
}

// TestDrawKinds samples a fresh model, unconditional and conditional, and
// checks sizes, binary pixels, layouts and the options refused.
func TestDrawKinds(t *testing.T) {
	rng := modeltest.RNG(5)
	m := load(t)
	d, err := models.Draw(m, "pixelcnn", sample.Request{N: 3, Class: -1, Code: -1}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if imgs := d.Images; imgs.N != 3 || imgs.H != 28 || len(imgs.Pix) != 3*784 {
		t.Fatalf("%d images %dx%d", imgs.N, imgs.H, imgs.W)
	}
	ones := 0
	for _, v := range d.Images.Pix {
		if v != 0 && v != 1 {
			t.Fatalf("pixel %v is not binary", v)
		}
		ones += int(v)
	}
	if ones == 0 || ones == len(d.Images.Pix) {
		t.Errorf("%d of %d pixels are 1: an untrained model should draw both", ones, len(d.Images.Pix))
	}
	if _, err := models.Draw(m, "pixelcnn", sample.Request{N: 2, Class: 3, Code: -1}, rng); err == nil {
		t.Error("an unconditional model drew a class")
	}
	c := load(t, set("pixelcnn.conditional", "true"))
	for _, req := range []sample.Request{{N: 2, Class: -1, Code: -1}, {N: 2, Class: 7, Code: -1}} {
		d, err := models.Draw(c, "pixelcnn", req, rng)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 10, false: 8}[req.Class < 0]; d.Images.N != 2 || d.Grid.NRow != want {
			t.Errorf("class %d: %d images in rows of %d, want 2 in rows of %d", req.Class, d.Images.N, d.Grid.NRow, want)
		}
	}
	if _, err := models.Draw(c, "pixelcnn", sample.Request{N: 2, Class: 10, Code: -1}, rng); err == nil {
		t.Error("class 10 accepted")
	}
}

// TestRowGraphsGiveTheWholeGridsLogits checks what sampling relies on:
// a graph of the first rows of the grid gives the logits the whole grid's
// graph gives those rows.
func TestRowGraphsGiveTheWholeGridsLogits(t *testing.T) {
	m := load(t, set("pixelcnn.conditional", "true"))
	_, te := modeltest.MNIST(t, 2, false)
	logits := func(rows int) []float32 {
		s, err := m.Net.BuildRows(2, rows)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits})
		if err != nil {
			t.Fatal(err)
		}
		defer prog.Close()
		for i := range 2 {
			copy(s.X[i*rows*28:(i+1)*rows*28], te.Image(i))
		}
		s.SetClasses([]int{4, 1})
		if err := prog.Run(); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(prog.Value(s.Logits))
	}
	full, top := logits(28), logits(9)
	for i := range 2 {
		for p := range 9 * 28 {
			if a, b := top[i*9*28+p], full[i*784+p]; a != b {
				t.Fatalf("image %d pixel %d: %v with 9 rows, %v with all", i, p, a, b)
			}
		}
	}
}
