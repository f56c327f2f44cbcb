package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// metricsLog appends one JSON object per line to OUT/metrics.jsonl.
type metricsLog struct {
	f    *os.File
	path string
	buf  bytes.Buffer
}

// openMetrics opens the log for appending. When resuming at step, lines of
// steps after it (written by the interrupted run past its checkpoint) are
// dropped first, so the log reads as one unbroken run; seconds is then the
// training time its last kept line records, from which the resumed run's
// clock goes on (the time between that line and the interruption is lost:
// at most one log_every's worth).
func openMetrics(path string, step int64, resume bool) (l *metricsLog, seconds float64, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, 0, fmt.Errorf("creating run folder: %w", err)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resume {
		if seconds, err = truncateAfter(path, step); err != nil {
			return nil, 0, err
		}
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("opening metrics log: %w", err)
	}
	return &metricsLog{f: f, path: path}, seconds, nil
}

// truncateAfter drops the log's lines of steps after step and returns the
// largest training time the kept lines record.
func truncateAfter(path string, step int64) (seconds float64, err error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading metrics log: %w", err)
	}
	var kept bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var line struct {
			Step    int64   `json:"step"`
			Seconds float64 `json:"seconds"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Step > step {
			continue
		}
		seconds = max(seconds, line.Seconds)
		kept.Write(sc.Bytes())
		kept.WriteByte('\n')
	}
	if err := os.WriteFile(path, kept.Bytes(), 0o644); err != nil {
		return 0, fmt.Errorf("rewriting metrics log: %w", err)
	}
	return seconds, nil
}

// write appends one record. Keys are written in a fixed order by hand: the
// log is read by people as often as by programs.
// epoch is 1-based: the epoch in progress for a step, the one just finished
// for an epoch record.
func (l *metricsLog) write(kind string, step int64, epoch int, ms []Metric, imagesPerSec, seconds float64) error {
	b := &l.buf
	b.Reset()
	fmt.Fprintf(b, `{"kind":%q,"step":%d,"epoch":%d`, kind, step, epoch)
	for _, m := range ms {
		b.WriteString(`,"`)
		b.WriteString(m.Name)
		b.WriteString(`":`)
		b.WriteString(jsonNumber(m.Value))
	}
	fmt.Fprintf(b, `,"images_per_sec":%s,"seconds":%s}`+"\n", jsonNumber(imagesPerSec), jsonNumber(seconds))
	if _, err := l.f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", l.path, err)
	}
	return nil
}

// writeWarning records a warning of the model about the epoch.
func (l *metricsLog) writeWarning(step int64, epoch int, msg string) error {
	b, _ := json.Marshal(map[string]any{"kind": "warning", "step": step, "epoch": epoch, "warning": msg})
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", l.path, err)
	}
	return nil
}

// jsonNumber formats v for JSON, which has no NaN or Inf: those become null.
func jsonNumber(v float64) string {
	if v != v || v > 1e308 || v < -1e308 {
		return "null"
	}
	return strconv.FormatFloat(v, 'g', 7, 64)
}

func (l *metricsLog) Close() error { return l.f.Close() }
