// Package plots draws training curves from a run's metrics.jsonl as PNGs
// with gonum/plot: each run's losses (and, for a GAN, D(x) and D(G(z))),
// and one metric of several runs overlaid.
package plots

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/genmodel/genmodel/internal/atomicfile"
)

// Series is one metric's values by step.
type Series struct {
	Name  string
	Steps []float64
	Vals  []float64
}

// notCurves are the step records' fields that are not training curves.
var notCurves = map[string]bool{"step": true, "epoch": true, "images_per_sec": true, "seconds": true}

// discriminatorOutputs go on their own panel: they live in [0, 1].
var discriminatorOutputs = map[string]bool{"d_x": true, "d_g_z1": true, "d_g_z2": true}

// ReadSteps reads the step records of a metrics.jsonl into one series per
// metric, sorted by name. A truncated last line (a run killed mid-write) is
// skipped; any other bad line is an error.
func ReadSteps(path string) ([]Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	byName := map[string]*Series{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var pendingErr error
	for sc.Scan() {
		if pendingErr != nil {
			return nil, pendingErr
		}
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			pendingErr = fmt.Errorf("%s: a corrupt line: %w", path, err)
			continue
		}
		if rec["kind"] != "step" {
			continue
		}
		step, _ := rec["step"].(float64)
		for k, v := range rec {
			x, ok := v.(float64)
			if !ok || notCurves[k] {
				continue
			}
			s := byName[k]
			if s == nil {
				s = &Series{Name: k}
				byName[k] = s
			}
			s.Steps = append(s.Steps, step)
			s.Vals = append(s.Vals, x)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// WriteRunCurves draws a run's curves into RUN/plots: losses.png (every
// step metric but D's outputs) and, for a GAN, d_outputs.png (D(x) and
// D(G(z)) before and after D's step).
func WriteRunCurves(runDir string) error {
	series, err := ReadSteps(filepath.Join(runDir, "metrics.jsonl"))
	if err != nil {
		return err
	}
	var losses, dOut []Series
	for _, s := range series {
		if discriminatorOutputs[s.Name] {
			dOut = append(dOut, s)
		} else {
			losses = append(losses, s)
		}
	}
	if len(losses) == 0 {
		return nil
	}
	dir := filepath.Join(runDir, "plots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := write(filepath.Join(dir, "losses.png"), filepath.Base(runDir)+": training curves", "value", losses); err != nil {
		return err
	}
	if len(dOut) > 0 {
		return write(filepath.Join(dir, "d_outputs.png"), filepath.Base(runDir)+": discriminator outputs", "D", dOut)
	}
	return nil
}

// WriteOverlay draws one metric of several runs (label -> metrics.jsonl)
// into one PNG.
func WriteOverlay(path, metric string, runs map[string]string) error {
	labels := make([]string, 0, len(runs))
	for l := range runs {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	var lines []Series
	for _, l := range labels {
		series, err := ReadSteps(runs[l])
		if err != nil {
			return err
		}
		for _, s := range series {
			if s.Name == metric {
				s.Name = l
				lines = append(lines, s)
			}
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("no run records %s", metric)
	}
	return write(path, metric+" by run", metric, lines)
}

// write draws the series as lines against the step and saves a PNG atomically.
func write(path, title, ylabel string, series []Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "step"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	for i, s := range series {
		pts := make(plotter.XYs, len(s.Steps))
		for j := range s.Steps {
			pts[j].X, pts[j].Y = s.Steps[j], s.Vals[j]
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.2)
		if len(series) == 1 {
			l.Color = color.RGBA{B: 200, A: 255}
		}
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	p.Legend.Top = true
	w, err := p.WriterTo(8*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(out io.Writer) error {
		_, err := w.WriteTo(out)
		return err
	})
}
