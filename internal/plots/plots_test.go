package plots

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestRunCurves(t *testing.T) {
	dir := t.TempDir()
	metrics := `{"kind":"step","step":1,"epoch":1,"loss_d":1.2,"loss_g":0.7,"d_x":0.6,"d_g_z1":0.4,"d_g_z2":0.3,"images_per_sec":100,"seconds":1}
{"kind":"step","step":2,"epoch":1,"loss_d":1.1,"loss_g":0.8,"d_x":0.7,"d_g_z1":0.3,"d_g_z2":0.35,"images_per_sec":100,"seconds":2}
{"kind":"epoch","step":2,"epoch":1,"loss_d":1.15,"images_per_sec":100,"seconds":2}
{"kind":"step","step":3,"epo`
	if err := os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(metrics), 0o644); err != nil {
		t.Fatal(err)
	}
	series, err := ReadSteps(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatalf("a truncated last line: %v", err)
	}
	if len(series) != 5 || series[0].Name != "d_g_z1" || len(series[0].Vals) != 2 || series[4].Vals[1] != 0.8 {
		t.Fatalf("series %+v", series)
	}
	if err := WriteRunCurves(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"losses.png", "d_outputs.png"} {
		f, err := os.Open(filepath.Join(dir, "plots", name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := WriteOverlay(filepath.Join(dir, "o.png"), "bits_per_dim", map[string]string{"a": filepath.Join(dir, "metrics.jsonl")}); err == nil {
		t.Error("an overlay of a metric no run has")
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte("{bad\n{\"kind\":\"step\"}\n"), 0o644)
	if _, err := ReadSteps(filepath.Join(dir, "metrics.jsonl")); err == nil {
		t.Error("a corrupt line in the middle was accepted")
	}
}
