// Package progress draws a one-line progress bar for training and evaluation loops:
//
//	train  37% |███████▍            | 370/1000 [00:12<00:20, 30.1 it/s] loss=0.412 lr_A=1e-04 lr_B=1.6e-03
//
// On a terminal the line is redrawn in place at most ten times a second; elsewhere (a log file, CI) a full line
// is printed every tenth of the way and at the end, so logs stay short.
package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// Bar is a progress bar over Total units of work (steps, examples, prompts).
type Bar struct {
	Desc  string
	Total int
	Unit  string // "it" by default
	W     io.Writer

	start    time.Time
	last     time.Time
	lastFrac int
	tty      bool
	n        int
	fields   string
	drawn    int // n at the last draw
}

// New starts a bar writing to stderr.
func New(desc string, total int) *Bar { return NewTo(os.Stderr, desc, total) }

// NewTo starts a bar writing to w.
func NewTo(w io.Writer, desc string, total int) *Bar {
	b := &Bar{Desc: desc, Total: total, Unit: "it", W: w, start: time.Now(), lastFrac: -1, drawn: -1}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

// Set moves the bar to n units done and sets the trailing fields (e.g. "loss=0.41 lr_A=1e-4").
func (b *Bar) Set(n int, fields string) {
	b.n, b.fields = n, fields
	now := time.Now()
	frac := 0
	if b.Total > 0 {
		frac = 10 * n / b.Total
	}
	switch {
	case n >= b.Total:
	case b.tty && now.Sub(b.last) < 100*time.Millisecond:
		return
	case !b.tty && frac == b.lastFrac:
		return
	}
	b.last, b.lastFrac = now, frac
	b.draw(now)
}

// Add advances the bar by k units.
func (b *Bar) Add(k int, fields string) { b.Set(b.n+k, fields) }

// Done draws the final state (unless it is already on screen) and ends the line.
func (b *Bar) Done() {
	if b.tty {
		b.draw(time.Now())
		fmt.Fprintln(b.W)
	} else if b.drawn != b.n {
		b.draw(time.Now())
	}
}

// Line renders the bar as text (without a line ending).
func (b *Bar) Line(now time.Time) string {
	el := now.Sub(b.start)
	rate := float64(b.n) / math.Max(el.Seconds(), 1e-9)
	pct, bar, eta := "", "", "?"
	if b.Total > 0 {
		f := math.Min(1, float64(b.n)/float64(b.Total))
		pct = fmt.Sprintf("%3.0f%%", 100*f)
		const width = 20
		full := int(f * width)
		bar = "|" + strings.Repeat("█", full) + strings.Repeat(" ", width-full) + "|"
		if rate > 0 {
			eta = clock(time.Duration(float64(b.Total-b.n) / rate * float64(time.Second)))
		}
	}
	s := fmt.Sprintf("%s %s %s %d/%d [%s<%s, %.3g %s/s]", b.Desc, pct, bar, b.n, b.Total, clock(el), eta, rate, b.Unit)
	if b.fields != "" {
		s += " " + b.fields
	}
	return s
}

func (b *Bar) draw(now time.Time) {
	b.drawn = b.n
	if b.tty {
		fmt.Fprintf(b.W, "\r\x1b[K%s", b.Line(now))
	} else {
		fmt.Fprintln(b.W, b.Line(now))
	}
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
