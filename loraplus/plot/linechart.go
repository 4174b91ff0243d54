package plot

import (
	"fmt"
	"image"
	"math"
)

// Series is one curve of a LineChart through the points (X[i], Y[i]).
// Non-finite values leave a gap in the curve.
type Series struct {
	// Name labels the curve in the legend; unnamed curves are left out.
	Name string
	// X and Y hold the coordinates; they must have equal lengths.
	X, Y []float64
}

// LineChart draws curves over a shared x axis, such as accuracy or loss
// over training steps for LoRA and LoRA+ (paper Figure 7). Each series gets
// a distinct colour (and a distinct marker when it has at most 40 points);
// the legend is placed in the corner where it hides the fewest data.
type LineChart struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes.
	Title, XLabel, YLabel string
	// Series holds the curves, drawn in order (later on top).
	Series []Series
	// LogX and LogY put the axes on a log10 scale; the values on such an
	// axis must then be positive.
	LogX, LogY bool
	// Width and Height are the image size in pixels; 0 means 720 x 450.
	Width, Height int
}

// maxMarkedPoints is the largest series that still gets point markers.
const maxMarkedPoints = 40

// palette holds the series colours (the "tab10" qualitative palette).
var palette = []colorHex{
	0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
	0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
}

// name identifies the chart in error messages.
func (c *LineChart) name() string {
	if c.Title != "" {
		return fmt.Sprintf("plot: line chart %q", c.Title)
	}
	return "plot: line chart"
}

// validate checks series shapes, log-axis domains and the image size.
func (c *LineChart) validate() error {
	n := c.name()
	if len(c.Series) == 0 {
		return fmt.Errorf("%s: no series", n)
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"Width", c.Width}, {"Height", c.Height}} {
		if d.v != 0 && (d.v < 160 || d.v > 8000) {
			return fmt.Errorf("%s: %s=%d outside [160, 8000] (0 picks the default)", n, d.name, d.v)
		}
	}
	points := 0
	for si, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("%s: series %d (%q): len(X)=%d but len(Y)=%d", n, si, s.Name, len(s.X), len(s.Y))
		}
		for i := range s.X {
			if c.LogX && finite(s.X[i]) && s.X[i] <= 0 {
				return fmt.Errorf("%s: series %d (%q): X[%d]=%g is not positive, as LogX requires", n, si, s.Name, i, s.X[i])
			}
			if c.LogY && finite(s.Y[i]) && s.Y[i] <= 0 {
				return fmt.Errorf("%s: series %d (%q): Y[%d]=%g is not positive, as LogY requires", n, si, s.Name, i, s.Y[i])
			}
			if finite(s.X[i]) && finite(s.Y[i]) {
				points++
			}
		}
	}
	if points == 0 {
		return fmt.Errorf("%s: no series has a finite point", n)
	}
	return nil
}

// Render draws the chart and returns the image.
func (c *LineChart) Render() (*image.RGBA, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c.draw(c.layout()), nil
}

// WritePNG renders the chart and writes it to path as a PNG, atomically.
func (c *LineChart) WritePNG(path string) error {
	img, err := c.Render()
	if err != nil {
		return err
	}
	return WritePNG(path, img)
}

// dataRange returns the range of the finite coordinates of all points
// that are finite in both coordinates; sel picks X (0) or Y (1).
func (c *LineChart) dataRange(sel int) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			if !finite(s.X[i]) || !finite(s.Y[i]) {
				continue
			}
			v := s.X[i]
			if sel == 1 {
				v = s.Y[i]
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}
