package evaluate

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/sample"
)

// These tests check that the evaluator, with the shipped classifier, measures
// what it claims on real MNIST: near-zero FID for real test digits, FID that
// grows with noise and blur, and the coverage and recall of a single class.

var (
	fixtureOnce sync.Once
	fixtureNet  *Net
	fixtureRef  *Features
	fixtureTest *data.Dataset
	fixtureErr  error
)

func fixture(t *testing.T) (*Net, *Features, *data.Dataset) {
	t.Helper()
	fixtureOnce.Do(func() {
		if fixtureNet, fixtureErr = LoadNet(""); fixtureErr != nil {
			return
		}
		if _, fixtureTest, fixtureErr = data.LoadMNIST(""); fixtureErr != nil {
			return
		}
		fixtureRef, fixtureErr = fixtureNet.Reference(fixtureTest)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureNet, fixtureRef, fixtureTest
}

func measure(t *testing.T, imgs sample.Images) Figures {
	t.Helper()
	net, ref, _ := fixture(t)
	f, err := net.Extract(imgs)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Compare(net.Source, ref, f, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	return fig
}

func addNoise(imgs sample.Images, sigma float64, seed uint64) sample.Images {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := imgs
	out.Pix = make([]float32, len(imgs.Pix))
	for i, v := range imgs.Pix {
		out.Pix[i] = float32(math.Min(1, math.Max(0, float64(v)+sigma*rng.NormFloat64())))
	}
	return out
}

// blur applies a separable Gaussian blur of standard deviation sigma pixels.
func blur(imgs sample.Images, sigma float64) sample.Images {
	r := int(math.Ceil(3 * sigma))
	kernel := make([]float64, 2*r+1)
	var sum float64
	for i := range kernel {
		x := float64(i - r)
		kernel[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += kernel[i]
	}
	for i := range kernel {
		kernel[i] /= sum
	}
	h, w := imgs.H, imgs.W
	out := imgs
	out.Pix = make([]float32, len(imgs.Pix))
	tmp := make([]float64, h*w)
	for n := 0; n < imgs.N; n++ {
		src, dst := imgs.Pix[n*h*w:(n+1)*h*w], out.Pix[n*h*w:(n+1)*h*w]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s float64
				for k, kv := range kernel {
					if xx := x + k - r; xx >= 0 && xx < w {
						s += kv * float64(src[y*w+xx])
					}
				}
				tmp[y*w+x] = s
			}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s float64
				for k, kv := range kernel {
					if yy := y + k - r; yy >= 0 && yy < h {
						s += kv * tmp[yy*w+x]
					}
				}
				dst[y*w+x] = float32(s)
			}
		}
	}
	return out
}

// randomSubset returns n test images chosen by a seeded permutation. (The
// MNIST test set is ordered: its first 5000 digits come from other writers
// than its last 5000, so a leading slice is not a sample of the whole.)
func randomSubset(ds *data.Dataset, n int, seed uint64) sample.Images {
	d := ds.H * ds.W
	out := sample.Images{N: n, H: ds.H, W: ds.W, Pix: make([]float32, 0, n*d)}
	for _, i := range data.EpochOrder(seed, 0, ds.N)[:n] {
		out.Pix = append(out.Pix, ds.Pixels[i*d:(i+1)*d]...)
	}
	return out
}

// TestRealDigitsScoreNearPerfect: 2000 random real test digits against the
// test set. FID's small-sample bias keeps it above zero, so "near zero" is
// measured against mild degradations of the same images at the same size.
func TestRealDigitsScoreNearPerfect(t *testing.T) {
	_, _, test := fixture(t)
	real := randomSubset(test, 2000, 11)
	fig := measure(t, real)
	noisy := measure(t, addNoise(real, 0.1, 1))
	blurred := measure(t, blur(real, 1))
	t.Logf("2000 test digits vs the test set: FID %.3f (noise 0.1: %.3f, blur 1: %.3f) precision %.3f recall %.3f classes %d", fig.FID, noisy.FID, blurred.FID, fig.Precision, fig.Recall, fig.Coverage.Classes)
	if fig.FID > 0.15*noisy.FID || fig.FID > 0.02*blurred.FID {
		t.Errorf("FID of real test digits %.3f is not near zero (noise 0.1 gives %.3f, blur 1 gives %.3f)", fig.FID, noisy.FID, blurred.FID)
	}
	if fig.Coverage.Classes != 10 || fig.Precision < 0.7 || fig.Recall < 0.7 {
		t.Errorf("real digits: %d classes, precision %.3f, recall %.3f", fig.Coverage.Classes, fig.Precision, fig.Recall)
	}
}

// TestFIDGrowsWithDegradation is the monotonic-degradation test: stronger
// noise or blur must give a larger FID and a recall that does not rise.
// (Precision does not fall: degraded digits map to weak activations that
// sit inside the real images' k-NN balls; fidelity shows in FID instead.)
func TestFIDGrowsWithDegradation(t *testing.T) {
	_, _, test := fixture(t)
	base := randomSubset(test, 1000, 12)
	cases := []struct {
		name     string
		strength []float64
		degrade  func(sample.Images, float64) sample.Images
	}{
		{"gaussian noise", []float64{0, 0.05, 0.1, 0.2, 0.4}, func(x sample.Images, s float64) sample.Images { return addNoise(x, s, 7) }},
		{"gaussian blur", []float64{0, 0.5, 1, 1.5, 2.5}, func(x sample.Images, s float64) sample.Images {
			if s == 0 {
				return x
			}
			return blur(x, s)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var figs []Figures
			for _, s := range c.strength {
				f := measure(t, c.degrade(base, s))
				t.Logf("%s %.2f: FID %.3f precision %.3f recall %.3f", c.name, s, f.FID, f.Precision, f.Recall)
				if n := len(figs); n > 0 && f.FID <= figs[n-1].FID {
					t.Errorf("strength %.2f: FID %.3f is not above %.3f at strength %.2f", s, f.FID, figs[n-1].FID, c.strength[n-1])
				}
				if n := len(figs); n > 0 && f.Recall > figs[n-1].Recall {
					t.Errorf("strength %.2f: recall %.3f rose from %.3f", s, f.Recall, figs[n-1].Recall)
				}
				figs = append(figs, f)
			}
			if last := figs[len(figs)-1]; last.Recall > 0.1 {
				t.Errorf("recall %.3f at the strongest degradation, want below 0.1", last.Recall)
			}
		})
	}
}

func TestSingleClassCoverage(t *testing.T) {
	_, _, test := fixture(t)
	d := test.H * test.W
	var ones []float32
	for i := 0; i < test.N && len(ones) < 500*d; i++ {
		if test.Labels[i] == 1 {
			ones = append(ones, test.Pixels[i*d:(i+1)*d]...)
		}
	}
	fig := measure(t, sample.Images{N: len(ones) / d, H: 28, W: 28, Pix: ones})
	t.Logf("500 ones: classes %d histogram %v recall %.3f precision %.3f FID %.2f", fig.Coverage.Classes, fig.Coverage.Histogram, fig.Recall, fig.Precision, fig.FID)
	if fig.Coverage.Classes != 1 || fig.Coverage.Histogram[1] < fig.Images*98/100 {
		t.Errorf("a folder of ones covers %d classes (%v), want 1", fig.Coverage.Classes, fig.Coverage.Histogram)
	}
	if fig.Recall > 0.25 {
		t.Errorf("recall %.3f for a single class, want low (< 0.25)", fig.Recall)
	}
	if fig.Coverage.EntropyBits > 0.1 {
		t.Errorf("entropy %.3f bits for a single class, want near 0", fig.Coverage.EntropyBits)
	}
}
