package app

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// SampleOptions are the inputs of `genmodel sample`.
type SampleOptions struct {
	DrawFlags
	Kind     string    // "" for the model's default picture
	N        int       // 0: the picture's default, else DefaultN
	Out      string    // grid PNG
	OutDir   string    // N single PNGs instead of a grid
	Progress io.Writer // progress bars (nil: none)
}

// DefaultN is the number of images `sample` draws unless --n or the
// picture says otherwise.
const DefaultN = 64

// Sample draws a picture from a trained model and writes a grid or singles.
func Sample(o SampleOptions, stdout io.Writer) error {
	m, err := loadDrawn(o.DrawFlags)
	if err != nil {
		return err
	}
	if m.origin != "" {
		fmt.Fprintf(stdout, "using %s\n", m.origin)
	}
	m.deps.announce = func(flag, origin string) { fmt.Fprintf(stdout, "using %s as %s\n", origin, flag) }
	kind, err := models.Kind(m, m.name, o.Kind)
	if err != nil {
		return err
	}
	if o.OutDir != "" && kind.Grid {
		return fmt.Errorf("--out-dir writes single images; the %s picture is a grid: use --out", kind.Name)
	}
	n := o.N
	if n == 0 {
		n = cmp.Or(kind.DefaultN, DefaultN)
	}
	req := o.Request
	req.Kind, req.N = kind.Name, n
	if kind.NeedsTest {
		common, err := m.cfg.Common()
		if err != nil {
			return err
		}
		if _, req.Test, err = loadData(common.Data); err != nil {
			return err
		}
	}
	if o.Progress != nil {
		req.Progress = progressBar(o.Progress)
	}
	var d sample.Drawing
	if classes := m.Classes(req); req.Diffusion.Guidance != "" && req.Class < 0 && kind.Name == "prior" && classes > 0 {
		// Guidance without --class steers toward each class in turn, a row
		// of each when N allows, as eval draws them; the unguided null
		// branch is what leaving out --guidance gives.
		d, _, err = drawBalanced(m, req, sample.NewRand(o.Seed))
		if n%classes == 0 {
			d.Grid.NRow = n / classes
		}
	} else {
		d, err = models.Draw(m, m.name, req, sample.NewRand(o.Seed))
	}
	if err != nil {
		return err
	}
	if o.OutDir != "" {
		if err := sample.SaveSingles(o.OutDir, d.Images, d.Grid.Lo, d.Grid.Hi); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d images to %s\n", d.Images.N, o.OutDir)
		return nil
	}
	out := o.Out
	if out == "" {
		out = fmt.Sprintf("%s-%s.png", m.name, kind.Name)
	}
	if err := saveGridMkdir(out, d.Images, d.Grid); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d images, %s, from %s%s)\n", out, d.Images.N, kind.Name, m.ck.Path, factsOf(d.Facts))
	return nil
}

// factsOf lists how a drawing was made (a diffusion model's sampler, steps
// and guidance), for the line that names the file written.
func factsOf(facts []sample.Fact) string {
	var b strings.Builder
	for _, f := range facts {
		fmt.Fprintf(&b, "; %s %v", f.Name, f.Value)
	}
	return b.String()
}

// saveGridMkdir writes a grid PNG, creating its folder.
func saveGridMkdir(path string, imgs sample.Images, grid sample.GridOptions) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return sample.SaveGrid(path, imgs, grid)
}
