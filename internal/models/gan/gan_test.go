package gan

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

var set = modeltest.Set

func rngFor(seed uint64) *rand.Rand { return modeltest.RNG(seed) }

// builds are the two models' build functions by name.
var builds = map[string]models.BuildFunc{"gan": NewGAN, "dcgan": NewDCGAN}

// buildGAN builds the GAN or DCGAN a configuration names.
func buildGAN(cfg *config.Config) (models.Model, error) {
	return models.Entry{Name: cfg.Model, Build: builds[cfg.Model]}.New(cfg, nil)
}

func loadGAN(t *testing.T, model string, overrides ...config.Override) *GAN {
	t.Helper()
	return modeltest.New(t, model, builds[model], nil, overrides...).(*GAN)
}

// prior is a request for n prior samples of a class and a code (-1: none).
func prior(n, class, code int) sample.Request {
	return sample.Request{Kind: "prior", N: n, Class: class, Code: code}
}

// draw answers req through models.Draw, with the noise of seed.
func draw(m *GAN, req sample.Request, seed uint64) (sample.Drawing, error) {
	return models.Draw(m, m.name, req, rngFor(seed))
}

func TestGANWarnings(t *testing.T) {
	m := loadGAN(t, "gan")
	// A freshly initialized generator barely depends on its noise (pixel
	// std about 0.015); scaling its last layer up gives it the spread of a
	// trained one, so that only the cases below decide the warnings.
	net := m.Net.(*nets.GAN)
	last := net.Gen[len(net.Gen)-1].Weight.Data
	for i := range last {
		last[i] *= 30
	}
	cases := []struct {
		name     string
		dx, dgz  float64
		collapse bool
		want     []string
	}{
		{"healthy", 0.6, 0.4, false, nil},
		{"discriminator wins", 0.99, 0.01, false, []string{"discriminator wins"}},
		{"diverged", 0.1, 0.9, false, []string{"diverged"}},
		{"collapsed", 0.6, 0.4, true, []string{"mode collapse"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.collapse {
				// A generator whose last layer ignores its input maps all
				// noise to one image.
				clear(last)
			}
			got := m.CheckEpoch([]train.Metric{{Name: "d_x", Value: c.dx}, {Name: "d_g_z1", Value: c.dgz}})
			if len(got) != len(c.want) {
				t.Fatalf("warnings %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q does not mention %q", got[i], w)
				}
			}
		})
	}
}

func TestGANConfigErrors(t *testing.T) {
	for _, o := range [][2]string{{"gan.loss", "lsgan"}, {"gan.n_critic", "0"}, {"gan.label_smoothing", "1"}, {"gan.d_dropout", "1"}, {"gan.weight_clip", "-1"}, {"gan.sample_keep", "0"}, {"dcgan.sample_keep", "1.5"}, {"dcgan.d_dropout", "-0.1"}, {"dcgan.info_codes", "-1"}, {"dcgan.info_weight", "-0.5"}, {"dcgan.g_hidden", "[0]"}, {"dcgan.d_hidden", "[512, -1]"}} {
		model, _, _ := strings.Cut(o[0], ".")
		cfg, err := config.Load(model, "", []config.Override{set(o[0], o[1])})
		if err != nil {
			continue
		}
		if _, err := buildGAN(cfg); err == nil {
			t.Errorf("%s=%s accepted", o[0], o[1])
		}
	}
}

func TestInfoCodesExcludeLabels(t *testing.T) {
	cfg, err := config.Load("dcgan", "", []config.Override{set("dcgan.info_codes", "10"), set("dcgan.conditional", "true")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildGAN(cfg); err == nil || !strings.Contains(err.Error(), "info_codes") {
		t.Errorf("conditional with info_codes: error %v, want one naming info_codes", err)
	}
}

// TestInfoGANCodes trains a DCGAN with an InfoGAN code one step and checks
// what the code reaches: G's noise input (the codes in turn when sampling,
// one per grid column), D's code head (a loss_info metric near log 4 at
// the start), and no --class.
func TestInfoGANCodes(t *testing.T) {
	m := loadGAN(t, "dcgan", set("dcgan.info_codes", "4"), set("dcgan.base_channels", "8"))
	metrics, err := m.TrainStep(modeltest.NoiseBatch(8), 0, rngFor(1))
	if err != nil {
		t.Fatal(err)
	}
	var info float64
	for _, mt := range metrics {
		if mt.Name == "loss_info" {
			info = mt.Value
		}
	}
	if math.Abs(info-math.Log(4)) > 0.3 {
		t.Errorf("loss_info %v after one step, want about log 4 = %.3f", info, math.Log(4))
	}
	if got := m.GridOptions().NRow; got != 4 {
		t.Errorf("grid rows of %d, want one column per code (4)", got)
	}
	for i, want := range []int{0, 1, 2, 3, 0, 1} {
		if got := m.classOf(-1)(i); got != want {
			t.Errorf("sample %d gets code %d, want %d (codes in turn)", i, got, want)
		}
	}
	// The same noise with the codes in turn, against all code 0: the images
	// differ where the code does.
	a, err := m.render(8, -1, 1, rngFor(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.render(8, 0, 1, rngFor(3))
	if err != nil {
		t.Fatal(err)
	}
	dim := a.H * a.W
	for i := range 8 {
		same := slices.Equal(a.Pix[i*dim:(i+1)*dim], b.Pix[i*dim:(i+1)*dim])
		if same != (i%4 == 0) {
			t.Errorf("image %d identical %v with code %d against code 0", i, same, i%4)
		}
	}
	if _, err := draw(m, prior(4, 1, -1), 1); err == nil {
		t.Error("a model with codes (no labels) accepted --class")
	}
	// --code k: every sample takes code k.
	if _, err := draw(m, prior(4, -1, 4), 1); err == nil {
		t.Error("code 4 of 4 accepted")
	}
	d, err := draw(m, prior(8, -1, 2), 3)
	if err != nil {
		t.Fatal(err)
	}
	drawn, grid := d.Images, d.Grid
	want, err := m.render(8, 2, 1, rngFor(3))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(drawn.Pix, want.Pix) || grid.NRow == 4 {
		t.Errorf("with code 2 set, samples equal code 2's %v, grid rows %d (want the default grid)",
			slices.Equal(drawn.Pix, want.Pix), grid.NRow)
	}
	plain := loadGAN(t, "dcgan", set("dcgan.base_channels", "8"))
	if _, err := draw(plain, prior(4, -1, 0), 1); err == nil || !strings.Contains(err.Error(), "info_codes") {
		t.Errorf("a dcgan without codes: --code error %v, want one naming info_codes", err)
	}
}

// TestConditionalSamplesFollowTheClass checks the plumbing of --class: the
// one-hot input reaches the generator, so a conditional model's samples for
// different classes differ while an unconditional one refuses a class.
func TestConditionalSamplesFollowTheClass(t *testing.T) {
	for _, model := range []string{"gan", "dcgan"} {
		t.Run(model, func(t *testing.T) {
			cond := loadGAN(t, model, set(model+".conditional", "true"))
			a, err := cond.render(4, 3, 1, rngFor(1))
			if err != nil {
				t.Fatal(err)
			}
			b, err := cond.render(4, 8, 1, rngFor(1))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(a.Pix, b.Pix) {
				t.Error("class 3 and class 8 gave identical images from the same noise")
			}
			if _, err := draw(loadGAN(t, model), prior(4, 3, -1), 1); err == nil {
				t.Error("an unconditional GAN accepted --class")
			}
			if _, err := draw(cond, prior(4, 10, -1), 1); err == nil {
				t.Error("class 10 accepted")
			}
		})
	}
}

func changed(before [][]float32, ps []*graphs.Param) bool {
	for i, p := range ps {
		for j, v := range p.Data {
			if v != before[i][j] {
				return true
			}
		}
	}
	return false
}

// TestGANTrainingOptions runs a few real steps with each training-loop
// option and checks its effect on the networks.
func TestGANTrainingOptions(t *testing.T) {
	batch := modeltest.NoiseBatch(16)
	t.Run("n_critic", func(t *testing.T) {
		m := loadGAN(t, "gan", set("gan.n_critic", "3"))
		for step := int64(0); step < 3; step++ {
			before := snapshot(m.Net.GenParams())
			if _, err := m.TrainStep(batch, step, rngFor(uint64(step))); err != nil {
				t.Fatal(err)
			}
			if got, want := changed(before, m.Net.GenParams()), step == 2; got != want {
				t.Errorf("step %d: generator updated %v, want %v (one G step per 3 D steps)", step, got, want)
			}
		}
	})
	t.Run("weight_clip", func(t *testing.T) {
		m := loadGAN(t, "gan", set("gan.loss", "wgan"), set("gan.weight_clip", "0.01"))
		if _, err := m.TrainStep(batch, 0, rngFor(1)); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Net.DiscParams() {
			for _, v := range p.Data {
				if v > 0.01 || v < -0.01 {
					t.Fatalf("%s holds %v after clipping to 0.01", p.Name, v)
				}
			}
		}
	})
	t.Run("hidden layers", func(t *testing.T) {
		m := loadGAN(t, "dcgan", set("dcgan.base_channels", "8"), set("dcgan.g_hidden", "[16]"), set("dcgan.d_hidden", "[12, 8]"))
		hidden := func(ps []*graphs.Param) []*graphs.Param {
			return slices.DeleteFunc(slices.Clone(ps), func(p *graphs.Param) bool { return !strings.Contains(p.Name, "hidden") })
		}
		gen, disc := hidden(m.Net.GenParams()), hidden(m.Net.DiscParams())
		if len(gen) != 4 || len(disc) != 8 {
			t.Fatalf("%d G and %d D hidden-layer tensors trained, want 4 (fc, bn) and 8 (2 x fc, bn)", len(gen), len(disc))
		}
		before := snapshot(append(gen, disc...))
		if _, err := m.TrainStep(batch, 0, rngFor(1)); err != nil {
			t.Fatal(err)
		}
		for i, p := range append(gen, disc...) {
			if slices.Equal(before[i], p.Data) {
				t.Errorf("%s unchanged by a training step", p.Name)
			}
		}
		if _, err := draw(m, prior(4, -1, -1), 1); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("instance_noise", func(t *testing.T) {
		m := loadGAN(t, "gan", set("gan.instance_noise", "0.2"), set("gan.instance_noise_steps", "100"))
		if _, err := m.TrainStep(batch, 0, rngFor(1)); err != nil {
			t.Fatal(err)
		}
		spread := func() float64 {
			var s float64
			for _, v := range m.dStep.NoiseReal {
				s += float64(v * v)
			}
			return math.Sqrt(s / float64(len(m.dStep.NoiseReal)))
		}
		m.fillStepInputs(m.dStep, 0, rngFor(2))
		start := spread()
		m.fillStepInputs(m.dStep, 50, rngFor(2))
		half := spread()
		m.fillStepInputs(m.dStep, 100, rngFor(2))
		end := spread()
		if math.Abs(start-0.2) > 0.02 || math.Abs(half-0.1) > 0.01 || end != 0 {
			t.Errorf("noise std %.3f, %.3f, %.3f at steps 0, 50, 100; want 0.2, 0.1, 0", start, half, end)
		}
	})
}

// TestGeneratorAverage checks the generator's EMA: its tensors are saved
// under "ema.", follow the warm-up decay after a step, and sampling from
// them leaves the trained weights in place.
func TestGeneratorAverage(t *testing.T) {
	cfg := modeltest.Config(t, "gan", set("gan.ema_decay", "0.999"))
	mm, err := buildGAN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*GAN)
	if len(m.ema) == 0 || m.ema[0].Name != "ema.generator.net.0.weight" || len(m.Params()) != len(m.Net.AllParams().List())+len(m.ema) {
		t.Fatalf("average not in the checkpoint: %d tensors", len(m.ema))
	}
	before := append([]float32(nil), m.gen[0].Data...)
	if _, err := m.TrainStep(modeltest.NoiseBatch(64), 0, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	w, e := m.gen[0].Data, m.ema[0].Data
	for i := range w {
		// First update: decay (1+0)/(10+0) = 0.1.
		if want := 0.1*float64(before[i]) + 0.9*float64(w[i]); math.Abs(float64(e[i])-want) > 1e-6 {
			t.Fatalf("ema[%d] = %v, want %v", i, e[i], want)
		}
	}
	ptr := &m.gen[0].Data[0]
	if _, err := m.Samples(4, rand.New(rand.NewPCG(2, 2))); err != nil {
		t.Fatal(err)
	}
	if &m.gen[0].Data[0] != ptr {
		t.Error("sampling left the average in the generator's place")
	}
}

// TestStandingStatistics checks how an averaged DCGAN samples: its batch
// normalizations use standing statistics, the exact means over the fixed
// standing batches (checked on the hidden layer, whose pre-activation mean is
// W mean(z) + b), put back afterwards; so sampling is repeatable and a
// temperature reaches the images (with each batch's statistics, the hidden
// layer's normalization would undo it).
func TestStandingStatistics(t *testing.T) {
	m := loadGAN(t, "dcgan", set("dcgan.base_channels", "8"), set("dcgan.g_hidden", "[16]"), set("dcgan.ema_decay", "0.9"))
	if _, err := m.TrainStep(modeltest.NoiseBatch(16), 0, rngFor(1)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(append(slices.Clone(m.gen), m.ema...))
	a, err := m.render(8, -1, 1, rngFor(3))
	if err != nil {
		t.Fatal(err)
	}
	if changed(before, append(slices.Clone(m.gen), m.ema...)) {
		t.Error("sampling changed the generator's tensors or their average")
	}
	b, err := m.render(8, -1, 1, rngFor(3))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Pix, b.Pix) {
		t.Error("the same noise gave different samples")
	}
	cold, err := m.render(8, -1, 0.5, rngFor(3))
	if err != nil {
		t.Fatal(err)
	}
	var moved float64
	for i := range a.Pix {
		moved += math.Abs(float64(a.Pix[i]-cold.Pix[i])) / float64(len(a.Pix))
	}
	if moved < 1e-3 {
		t.Errorf("temperature 0.5 moved pixels by %.2g on average: it hardly reaches the samples", moved)
	}

	net := m.Net.(*nets.DCGAN)
	fc, bn := net.GHiddenFC[0], net.GHiddenBN[0]
	tracked := bn.NumBatchesTracked.Data[0]
	restore, err := m.standingStats()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	rng := rand.New(rand.NewPCG(standingSeed, 0))
	meanZ := make([]float64, fc.In)
	z := make([]float32, sample.ChunkSize*fc.In)
	for range standingBatches {
		models.FillNormal(z, rng)
		for i, v := range z {
			meanZ[i%fc.In] += float64(v) / float64(standingBatches*sample.ChunkSize)
		}
	}
	for o := range fc.Out {
		want := float64(fc.Bias.Data[o])
		for i, zi := range meanZ {
			want += float64(fc.Weight.Data[o*fc.In+i]) * zi
		}
		if got := float64(bn.RunningMean.Data[o]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("hidden unit %d: standing mean %v, want %v", o, got, want)
		}
	}
	if got := bn.NumBatchesTracked.Data[0]; got != tracked+standingBatches {
		t.Errorf("num_batches_tracked %v after %d standing batches from %v", got, standingBatches, tracked)
	}
}

func TestKeepBest(t *testing.T) {
	// Image i of the pool is one pixel of value i; scores rank them.
	pool := sample.Images{N: 6, H: 1, W: 1, Pix: []float32{0, 1, 2, 3, 4, 5}}
	scores := []float32{0.1, 0.9, 0.8, -1, 0.5, 0.95}
	cases := []struct {
		name    string
		n       int
		classOf func(int) int
		want    []float32
	}{
		{"one class", 3, func(int) int { return 0 }, []float32{5, 1, 2}},
		{"classes in turn", 4, func(i int) int { return i % 2 }, []float32{2, 5, 4, 1}},
		{"all", 6, func(int) int { return 0 }, []float32{5, 1, 2, 4, 0, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := keepBest(pool, scores, c.n, c.classOf)
			if !slices.Equal(got.Pix, c.want) {
				t.Errorf("kept %v, want %v", got.Pix, c.want)
			}
		})
	}
}

// TestRejectionSampling checks that sample_keep draws through D: the pool of
// 4n images starts with plain sampling's n (the same noise), so D's scores
// of the kept images, sorted, are at least the plain ones', place by place.
// A conditional model filters class by class.
func TestRejectionSampling(t *testing.T) {
	for _, model := range []string{"gan", "dcgan"} {
		t.Run(model, func(t *testing.T) {
			plain := loadGAN(t, model)
			filtered := loadGAN(t, model, set(model+".sample_keep", "0.25"))
			a, err := plain.Samples(8, rngFor(4))
			if err != nil {
				t.Fatal(err)
			}
			b, err := filtered.Samples(8, rngFor(4))
			if err != nil {
				t.Fatal(err)
			}
			if b.N != 8 || len(b.Pix) != len(a.Pix) {
				t.Fatalf("got %d images (%d values), want 8", b.N, len(b.Pix))
			}
			sa, err := plain.critic(a, -1)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := plain.critic(b, -1)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(sa)
			slices.Sort(sb)
			for i := range sa {
				if sb[i] < sa[i] {
					t.Errorf("the %d-th lowest score of the kept images %v is below plain sampling's %v", i, sb[i], sa[i])
				}
			}
			cond := loadGAN(t, model, set(model+".conditional", "true"), set(model+".sample_keep", "0.5"))
			if _, err := draw(cond, prior(20, 3, -1), 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGANTemperature checks that --temperature reaches a GAN's noise: a
// temperature below 1 changes the samples drawn from the same seed, 1 gives
// the plain samples back, and non-positive temperatures are refused.
func TestGANTemperature(t *testing.T) {
	for _, model := range []string{"gan", "dcgan"} {
		t.Run(model, func(t *testing.T) {
			m := loadGAN(t, model)
			plain, err := m.Samples(4, rngFor(3))
			if err != nil {
				t.Fatal(err)
			}
			at := func(temp float64) (sample.Images, error) {
				req := prior(4, -1, -1)
				req.Temperature = temp
				d, err := draw(m, req, 3)
				return d.Images, err
			}
			cold, err := at(0.5)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(plain.Pix, cold.Pix) {
				t.Error("temperature 0.5 gave the same samples as 1")
			}
			again, err := at(1)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plain.Pix, again.Pix) {
				t.Error("temperature 1 did not give the plain samples back")
			}
			for _, bad := range []float64{-1, math.Inf(1), math.NaN()} {
				if _, err := at(bad); err == nil {
					t.Errorf("temperature %v accepted", bad)
				}
			}
		})
	}
}
