package experiment

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/genmodel/genmodel/internal/atomicfile"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/plots"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// SeedTables writes the seed chapter's three comparison tables (VAE vs GAN
// vs Diffusion; VAE vs Flow vs Diffusion; the summary) with the runs'
// measured values in place of its words. It uses the first run of each of
// the models vae, gan, ddpm (unguided), realnvp or glow, and a ddpm run
// evaluated with guidance for "controllable generation"; a missing model's
// cells read "-". It reports false when fewer than two families are there.
func SeedTables(w io.Writer, rows []Row) (bool, error) {
	pick := func(match func(Row) bool) *Row {
		for i := range rows {
			if match(rows[i]) {
				return &rows[i]
			}
		}
		return nil
	}
	guided := func(r Row) bool { _, ok := r.Eval["class_match_min"]; return ok }
	vae := pick(func(r Row) bool { return r.Model == "vae" })
	gan := pick(func(r Row) bool { return r.Model == "gan" || r.Model == "dcgan" })
	ddpm := pick(func(r Row) bool { return r.Model == "ddpm" && !guided(r) })
	steer := pick(func(r Row) bool { return r.Model == "ddpm" && guided(r) })
	flow := pick(func(r Row) bool { return r.Model == "realnvp" || r.Model == "glow" })
	n := 0
	for _, r := range []*Row{vae, gan, ddpm, flow} {
		if r != nil {
			n++
		}
	}
	if n < 2 {
		return false, nil
	}
	cell := func(r *Row, f func(Row) string) string {
		if r == nil {
			return "-"
		}
		return f(*r)
	}
	stability := func(r Row) string {
		cv, ok := lossCV(r)
		if !ok {
			return "-"
		}
		return fmt.Sprintf("loss CV %.3f", cv)
	}
	quality := func(r Row) string {
		return fmt.Sprintf("FID %s, precision %s", fig(r, "fid", 1), fig(r, "precision", 3))
	}
	speed := func(r Row) string { return fig(r, "sample_images_per_sec", 0) + " img/s" }
	coverage := func(r Row) string {
		return fmt.Sprintf("%s/10 classes, recall %s", fig(r, "classes", 0), fig(r, "recall", 3))
	}
	control := func(r Row) string {
		if v, ok := r.Eval["class_match_min"].(float64); ok {
			return fmt.Sprintf("%s: every class asked for, >= %.1f%% recognized", r.Run, 100*v)
		}
		return "- (not conditional)"
	}
	likelihood := func(r Row) string {
		switch {
		case hasEval(r, "bits_per_dim"):
			return "exact: " + fig(r, "bits_per_dim", 3) + " bits/dim"
		case hasEval(r, "nll_bits_per_dim"):
			return "bound: <= " + fig(r, "nll_bits_per_dim", 3) + " bits/dim"
		case hasEval(r, "iwae_nll_nats"):
			return "IWAE bound: " + fig(r, "iwae_nll_nats", 2) + " nats (binarized)"
		case hasEval(r, "loss"):
			return "ELBO only: test loss " + fig(r, "loss", 2) + " per image (Gaussian decoder)"
		}
		return "-"
	}
	size := func(r Row) string {
		p, err := checkpointTensors(r.Dir)
		if err != nil {
			return "-"
		}
		return fmt.Sprintf("%.2fM weights, %s train img/s", float64(p)/1e6, format(math.Round(r.TrainImagesPerSec)))
	}
	latent := func(r Row) string { return latentOf(r) }

	fmt.Fprintln(w, "### VAE vs GAN vs Diffusion (the seed's table, measured)")
	fmt.Fprintln(w)
	table(w, []string{"特性 (property)", "VAE", "GAN", "Diffusion"}, [][]string{
		{"训练稳定性 (training stability)", cell(vae, stability), cell(gan, stability), cell(ddpm, stability)},
		{"生成质量 (sample quality)", cell(vae, quality), cell(gan, quality), cell(ddpm, quality)},
		{"采样速度 (sampling speed)", cell(vae, speed), cell(gan, speed), cell(ddpm, speed)},
		{"模式覆盖 (mode coverage)", cell(vae, coverage), cell(gan, coverage), cell(ddpm, coverage)},
		{"可控生成 (controllable generation)", cell(vae, control), cell(gan, control), cell(steer, control)},
	})
	fmt.Fprintln(w, "\n### VAE vs Flow vs Diffusion (the seed's table, measured)")
	fmt.Fprintln(w)
	table(w, []string{"特性 (property)", "VAE", "Flow", "Diffusion"}, [][]string{
		{"精确对数似然 (log-likelihood)", cell(vae, likelihood), cell(flow, likelihood), cell(ddpm, likelihood)},
		{"采样速度 (sampling speed)", cell(vae, speed), cell(flow, speed), cell(ddpm, speed)},
		{"实现复杂度 (size, training speed)", cell(vae, size), cell(flow, size), cell(ddpm, size)},
		{"潜在空间 (latent space)", cell(vae, latent), cell(flow, latent), cell(ddpm, latent)},
	})
	fmt.Fprintln(w, "\n### Summary (the seed's table, measured)")
	fmt.Fprintln(w)
	table(w, []string{"生成模型", "优点 (measured)", "缺点 (measured)", "代表工作"}, [][]string{
		{"VAE", cell(vae, func(r Row) string { return stability(r) + "; " + latent(r) }), cell(vae, quality), "β-VAE, VQ-VAE"},
		{"GAN", cell(gan, func(r Row) string { return quality(r) + "; " + speed(r) }), cell(gan, stability), "StyleGAN, BigGAN"},
		{"Diffusion", cell(ddpm, quality) + "; " + cell(steer, control), cell(ddpm, speed), "DDPM, Stable Diffusion"},
		{"Flow", cell(flow, likelihood), cell(flow, size), "RealNVP, Glow"},
	})
	fmt.Fprintln(w, "\nloss CV: standard deviation over mean of the main training loss (VAE loss, GAN Loss_D, DDPM loss, flow bits/dim) over the last 20% of logged steps.")
	return true, nil
}

func hasEval(r Row, k string) bool { _, ok := r.Eval[k].(float64); return ok }

func fig(r Row, k string, digits int) string {
	v, ok := r.Eval[k].(float64)
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.*f", digits, v)
}

func table(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

// lossCV is the coefficient of variation of a run's main loss over the
// last fifth of its logged steps.
func lossCV(r Row) (float64, bool) {
	series, err := plots.ReadSteps(filepath.Join(r.Dir, "metrics.jsonl"))
	if err != nil {
		return 0, false
	}
	for _, name := range []string{"loss", "loss_d", "bits_per_dim"} {
		for _, s := range series {
			if s.Name != name || len(s.Vals) < 5 {
				continue
			}
			tail := s.Vals[len(s.Vals)*4/5:]
			var sum, sq float64
			for _, v := range tail {
				sum += v
				sq += v * v
			}
			mean := sum / float64(len(tail))
			sd := math.Sqrt(math.Max(0, sq/float64(len(tail))-mean*mean))
			return sd / math.Abs(mean), true
		}
	}
	return 0, false
}

// checkpointTensors counts the elements of a run's latest checkpoint that
// are not averaged copies ("ema.").
func checkpointTensors(dir string) (int, error) {
	name, err := os.ReadFile(filepath.Join(dir, "checkpoints", "latest"))
	if err != nil {
		return 0, err
	}
	f, err := safetensors.ReadFile(filepath.Join(dir, "checkpoints", strings.TrimSpace(string(name))))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, "ema.") {
			n += len(t.Data)
		}
	}
	return n, nil
}

// latentOf describes a model's latent space from its config.
func latentOf(r Row) string {
	path := filepath.Join(r.Dir, "config.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return "-"
	}
	cfg, err := config.LoadFrom(r.Model, path, raw, nil)
	if err != nil {
		return "-"
	}
	switch r.Model {
	case "vae":
		var s struct {
			LatentDim int `mapstructure:"latent_dim"`
		}
		if cfg.Decode("vae", &s) == nil {
			return fmt.Sprintf("z: %d dims, encoder q(z|x)", s.LatentDim)
		}
	case "realnvp", "glow":
		return "z: 784 dims, exact and invertible"
	case "ddpm":
		return "x_T: 784 dims, no encoder (DDIM inverts deterministically)"
	case "gan", "dcgan":
		return "z: no encoder"
	}
	return "-"
}

// SamplesPicture puts the last epoch's sample grid of each run side by
// side, in run order, 16 pixels apart and each under its run's name, into
// one PNG.
func SamplesPicture(path string, rows []Row) error {
	var (
		grids []image.Image
		names []string
	)
	for _, r := range rows {
		files, _ := filepath.Glob(filepath.Join(r.Dir, "samples", "epoch-*.png"))
		if len(files) == 0 {
			continue
		}
		sort.Strings(files)
		f, err := os.Open(files[len(files)-1])
		if err != nil {
			return err
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", files[len(files)-1], err)
		}
		grids = append(grids, img)
		names = append(names, r.Run)
	}
	if len(grids) == 0 {
		return fmt.Errorf("no run has a sample grid")
	}
	const gap, caption = 16, 20
	width, height := -gap, 0
	for _, g := range grids {
		width += g.Bounds().Dx() + gap
		height = max(height, g.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, width, caption+height))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	x := 0
	for i, g := range grids {
		label := &font.Drawer{Dst: out, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x+2, caption-6)}
		label.DrawString(names[i])
		draw.Draw(out, image.Rect(x, caption, x+g.Bounds().Dx(), caption+g.Bounds().Dy()), g, g.Bounds().Min, draw.Src)
		x += g.Bounds().Dx() + gap
	}
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, out) })
}
