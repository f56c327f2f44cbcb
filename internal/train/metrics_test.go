package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResumedMetricsKeepTheClock checks what a resumed run makes of
// metrics.jsonl: lines past the checkpoint's step go, and the clock goes on
// from the training time of the last line kept.
func TestResumedMetricsKeepTheClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	lines := []string{
		`{"kind":"step","step":100,"epoch":1,"loss":1,"images_per_sec":10,"seconds":40.5}`,
		`{"kind":"epoch","step":200,"epoch":1,"loss":1,"images_per_sec":10,"seconds":81.25}`,
		`{"kind":"step","step":300,"epoch":2,"loss":1,"images_per_sec":10,"seconds":120}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		step    int64
		resume  bool
		kept    int
		seconds float64
	}{
		{"resume at 250", 250, true, 2, 81.25},
		{"resume at 100", 100, true, 1, 40.5},
		{"a new run", 0, false, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, seconds, err := openMetrics(path, c.step, c.resume)
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(b), "\n"); got != c.kept || seconds != c.seconds {
				t.Errorf("kept %d lines, clock at %v s; want %d, %v", got, seconds, c.kept, c.seconds)
			}
		})
	}
}
