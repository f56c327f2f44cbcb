package experiment

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/genmodel/genmodel/internal/config"
)

// Row is one run's figures in a comparison.
type Row struct {
	Run   string `json:"run"`
	Dir   string `json:"dir"`
	Model string `json:"model"`
	Epoch int    `json:"epoch"`
	Step  int    `json:"step"`
	// Train holds the last epoch record's metrics (mean losses of the epoch,
	// test_* figures), Eval the figures of genmodel eval --json.
	Train map[string]float64 `json:"train"`
	Eval  map[string]any     `json:"eval,omitempty"`
	// TrainImagesPerSec is the mean over epochs; WallSeconds the training
	// time summed over the run's sessions (resumes included).
	TrainImagesPerSec float64 `json:"train_images_per_sec"`
	WallSeconds       float64 `json:"wall_seconds"`
}

// Collect reads the runs named by paths: run folders (with config.yaml and
// metrics.jsonl), or experiment folders whose subfolders are runs.
func Collect(paths []string) ([]Row, error) {
	var rows []Row
	for _, p := range paths {
		if isRun(p) {
			r, err := readRun(p)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("%s: neither a run folder nor an experiment folder: %w", p, err)
		}
		n := 0
		for _, e := range entries {
			sub := filepath.Join(p, e.Name())
			if e.IsDir() && isRun(sub) {
				r, err := readRun(sub)
				if err != nil {
					return nil, err
				}
				rows = append(rows, r)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s holds no runs (folders with config.yaml and metrics.jsonl)", p)
		}
	}
	return rows, nil
}

func isRun(dir string) bool {
	for _, f := range []string{"config.yaml", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

func readRun(dir string) (Row, error) {
	model, err := config.FileModel(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return Row{}, err
	}
	row := Row{Run: filepath.Base(dir), Dir: dir, Model: model, Train: map[string]float64{}}
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return Row{}, err
	}
	defer f.Close()
	var ipsSum float64
	var epochs int
	var lastSecs float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return Row{}, fmt.Errorf("%s: a corrupt line in metrics.jsonl: %w", dir, err)
		}
		secs, _ := rec["seconds"].(float64)
		if secs < lastSecs { // a new session (resume) started its clock again
			row.WallSeconds += lastSecs
		}
		lastSecs = secs
		if rec["kind"] != "epoch" {
			continue
		}
		epochs++
		ipsSum += num(rec["images_per_sec"])
		row.Epoch, row.Step = int(num(rec["epoch"])), int(num(rec["step"]))
		clear(row.Train)
		for k, v := range rec {
			if x, ok := v.(float64); ok && !map[string]bool{"step": true, "epoch": true, "images_per_sec": true, "seconds": true}[k] {
				row.Train[k] = x
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Row{}, err
	}
	row.WallSeconds += lastSecs
	if epochs > 0 {
		row.TrainImagesPerSec = ipsSum / float64(epochs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "eval.json")); err == nil {
		if err := json.Unmarshal(b, &row.Eval); err != nil {
			return Row{}, fmt.Errorf("%s: corrupt eval.json: %w", dir, err)
		}
	}
	return row, nil
}

func num(v any) float64 {
	x, _ := v.(float64)
	return x
}

// column is one column of the comparison table.
type column struct {
	name string
	get  func(Row) (float64, bool)
}

func trainFig(k string) func(Row) (float64, bool) {
	return func(r Row) (float64, bool) { v, ok := r.Train[k]; return v, ok }
}

func evalFig(keys ...string) func(Row) (float64, bool) {
	return func(r Row) (float64, bool) {
		for _, k := range keys {
			if v, ok := r.Eval[k].(float64); ok {
				return v, true
			}
		}
		return 0, false
	}
}

// columns are the table's figures; a run without one shows "-".
var columns = []column{
	{"final loss", func(r Row) (float64, bool) {
		for _, k := range []string{"loss", "bits_per_dim", "loss_d"} {
			if v, ok := r.Train[k]; ok {
				return v, true
			}
		}
		return 0, false
	}},
	{"loss_g", trainFig("loss_g")},
	{"D(x)", trainFig("d_x")},
	{"D(G(z))", trainFig("d_g_z2")},
	{"test loss", trainFig("test_loss")},
	{"likelihood", evalFig("bits_per_dim", "iwae_nll_nats", "nll_bits_per_dim")},
	{"FID", evalFig("fid")},
	{"classes", evalFig("classes")},
	{"precision", evalFig("precision")},
	{"recall", evalFig("recall")},
	{"train img/s", func(r Row) (float64, bool) { return r.TrainImagesPerSec, r.TrainImagesPerSec > 0 }},
	{"sample img/s", evalFig("sample_images_per_sec")},
	{"wall s", func(r Row) (float64, bool) { return r.WallSeconds, r.WallSeconds > 0 }},
}

// usedColumns drops the columns no run has.
func usedColumns(rows []Row) []column {
	var out []column
	for _, c := range columns {
		for _, r := range rows {
			if _, ok := c.get(r); ok {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func format(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// Markdown writes the comparison table. The likelihood column is the
// model's own: bits/dim for flows, the IWAE bound in nats for the VAE.
func Markdown(w io.Writer, rows []Row) error {
	cols := usedColumns(rows)
	head := []string{"run", "model", "epochs"}
	for _, c := range cols {
		head = append(head, c.name)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		cells := []string{r.Run, r.Model, strconv.Itoa(r.Epoch)}
		for _, c := range cols {
			cell := "-"
			if v, ok := c.get(r); ok {
				cell = format(v)
			}
			cells = append(cells, cell)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	return nil
}

// CSV writes the same table, every figure at full precision.
func CSV(w io.Writer, rows []Row) error {
	cols := usedColumns(rows)
	cw := csv.NewWriter(w)
	head := []string{"run", "model", "epochs", "dir"}
	for _, c := range cols {
		head = append(head, c.name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Run, r.Model, strconv.Itoa(r.Epoch), r.Dir}
		for _, c := range cols {
			cell := ""
			if v, ok := c.get(r); ok {
				cell = strconv.FormatFloat(v, 'g', -1, 64)
			}
			rec = append(rec, cell)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// JSON writes every run's figures, all of them.
func JSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// SortByRun orders rows by folder name (grid runs come out in key order).
func SortByRun(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Dir < rows[j].Dir })
}
