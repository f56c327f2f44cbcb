package train

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows an epoch's progress: a bar on a terminal, a line every
// log_every steps otherwise, nothing when quiet.
type progress struct {
	bar    *progressbar.ProgressBar
	out    io.Writer // the terminal under the bar
	lines  io.Writer // plain log lines when not on a terminal
	epoch  int
	epochs int
	batch  int       // images per step, for the bar's images/s
	start  time.Time // of this epoch's steps in this process
	steps  int
}

func newProgress(opt Options, epoch, epochs, nb, done int) *progress {
	p := &progress{epoch: epoch + 1, epochs: epochs, batch: opt.Train.BatchSize, start: time.Now()}
	if opt.Log == nil {
		return p
	}
	if !opt.Terminal {
		p.lines = opt.Log
		return p
	}
	p.bar = progressbar.NewOptions(nb,
		progressbar.OptionSetWriter(opt.Log),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch+1, epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("batch"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)
	p.out = opt.Log
	if done > 0 {
		p.bar.Set(done)
	}
	return p
}

func (p *progress) step(ms []Metric) {
	if p.bar == nil {
		return
	}
	p.steps++
	if len(ms) > 0 {
		ips := float64(p.steps*p.batch) / time.Since(p.start).Seconds()
		p.bar.Describe(fmt.Sprintf("epoch %d/%d %s %.4g, %.0f images/s", p.epoch, p.epochs, ms[0].Name, ms[0].Value, ips))
	}
	p.bar.Add(1)
}

func (p *progress) log(pos position, nb int, ms []Metric, ips float64) {
	if p.lines == nil {
		return
	}
	fmt.Fprintf(p.lines, "epoch %d/%d batch %d/%d step %d %s images/s %.0f\n", p.epoch, p.epochs, pos.batch, nb, pos.step, formatMetrics(ms), ips)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.out)
		p.bar = nil
	}
}

func formatMetrics(ms []Metric) string {
	s := ""
	for i, x := range ms {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s %.4g", x.Name, x.Value)
	}
	return s
}
