package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one curve of a LineChart through the points (X[i], Y[i]).
// Non-finite values leave a gap in the curve.
type Series struct {
	// Name labels the curve in the legend; unnamed curves are left out.
	Name string
	// X and Y hold the coordinates; they must have equal lengths.
	X, Y []float64
	// Lo and Hi, when set (both, as long as X), bound a band drawn in the series' colour, translucent, under
	// the curve: the spread of the runs whose mean Y is (mean ± standard deviation over seeds).
	Lo, Hi []float64
}

// HLine is a horizontal reference line across a LineChart, dashed, named in the legend.
type HLine struct {
	Y    float64
	Name string
}

// LineChart draws curves over a shared x axis, such as accuracy or loss
// over training steps for LoRA and LoRA+ (paper Figure 7). Each series gets
// a distinct colour (and a distinct marker when it has at most 40 points);
// the legend is placed in the corner where it hides the fewest points.
type LineChart struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes.
	Title, XLabel, YLabel string
	// Series holds the curves, drawn in order (later on top).
	Series []Series
	// HLines are horizontal reference lines (a target value), drawn dashed in dark grey.
	HLines []HLine
	// LogX and LogY put the axes on a log10 scale; the finite values on
	// such an axis must then be positive.
	LogX, LogY bool
	// Width and Height are the image size in pixels; 0 means 720 x 450.
	Width, Height int
}

var _ Figure = (*LineChart)(nil)

// maxMarkedPoints is the largest series that still gets point markers.
const maxMarkedPoints = 40

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
		if (s.Lo != nil || s.Hi != nil) && (len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X)) {
			return fmt.Errorf("%s: series %d (%q): a band needs Lo and Hi as long as X (%d), got %d and %d", n, si, s.Name, len(s.X), len(s.Lo), len(s.Hi))
		}
		for i := range s.Lo {
			if finite(s.Lo[i]) && finite(s.Hi[i]) && s.Lo[i] > s.Hi[i] {
				return fmt.Errorf("%s: series %d (%q): band Lo[%d]=%g above Hi[%d]=%g", n, si, s.Name, i, s.Lo[i], i, s.Hi[i])
			}
		}
		for i := range s.X {
			if c.LogX && finite(s.X[i]) && s.X[i] <= 0 {
				return fmt.Errorf("%s: series %d (%q): X[%d]=%g is not positive, as a log x axis requires", n, si, s.Name, i, s.X[i])
			}
			if c.LogY && finite(s.Y[i]) && s.Y[i] <= 0 {
				return fmt.Errorf("%s: series %d (%q): Y[%d]=%g is not positive, as a log y axis requires", n, si, s.Name, i, s.Y[i])
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

// Size returns Width and Height, by default 720 x 450.
func (c *LineChart) Size() (int, int) {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 720
	}
	if h == 0 {
		h = 450
	}
	return w, h
}

// segments splits s into runs of finite points.
func segments(s Series) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range s.X {
		if finite(s.X[i]) && finite(s.Y[i]) {
			cur = append(cur, plotter.XY{X: s.X[i], Y: s.Y[i]})
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// bandPolygons returns the outlines of s's band, one per run of points where X, Lo and Hi are finite.
func bandPolygons(s Series) []plotter.XYs {
	var out []plotter.XYs
	var lo, hi plotter.XYs
	flush := func() {
		if len(lo) > 1 {
			poly := append(plotter.XYs{}, lo...)
			for i := len(hi) - 1; i >= 0; i-- {
				poly = append(poly, hi[i])
			}
			out = append(out, poly)
		}
		lo, hi = nil, nil
	}
	for i := range s.X {
		if finite(s.X[i]) && finite(s.Lo[i]) && finite(s.Hi[i]) {
			lo = append(lo, plotter.XY{X: s.X[i], Y: s.Lo[i]})
			hi = append(hi, plotter.XY{X: s.X[i], Y: s.Hi[i]})
			continue
		}
		flush()
	}
	flush()
	return out
}

// markerShapes are the point markers of the series, in order.
var markerShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
	draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

// Draw checks the chart and draws it on c.
func (c *LineChart) Draw(dc draw.Canvas) error {
	if err := c.validate(); err != nil {
		return err
	}
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	p.Legend.TextStyle.Handler = textHandler
	grid := plotter.NewGrid()
	grid.Vertical = draw.LineStyle{Color: gridColor, Width: px(1)}
	grid.Horizontal = grid.Vertical
	p.X.Tick.Marker, p.Y.Tick.Marker = linearTicks{9}, linearTicks{7}
	p.Add(grid)
	if c.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	if c.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	var all plotter.XYs
	for si, s := range c.Series { // bands first, under every curve
		if s.Lo == nil {
			continue
		}
		col := seriesColors[si%len(seriesColors)]
		for _, band := range bandPolygons(s) {
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return fmt.Errorf("%s: series %d (%q) band: %w", c.name(), si, s.Name, err)
			}
			poly.Color = color.NRGBA{col.R, col.G, col.B, 0x38} // not premultiplied: the series colour, faint
			poly.LineStyle = draw.LineStyle{Color: color.Transparent, Width: 0}
			p.Add(poly)
			all = append(all, band...)
		}
	}
	for _, h := range c.HLines {
		if !finite(h.Y) {
			return fmt.Errorf("%s: reference line %q at %v", c.name(), h.Name, h.Y)
		}
		xmin, xmax := math.Inf(1), math.Inf(-1)
		for _, s := range c.Series {
			for i := range s.X {
				if finite(s.X[i]) {
					xmin, xmax = math.Min(xmin, s.X[i]), math.Max(xmax, s.X[i])
				}
			}
		}
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: h.Y}, {X: xmax, Y: h.Y}})
		if err != nil {
			return fmt.Errorf("%s: reference line %q: %w", c.name(), h.Name, err)
		}
		l.LineStyle = draw.LineStyle{Color: color.RGBA{0x40, 0x40, 0x40, 0xFF}, Width: px(1.5), Dashes: []vg.Length{px(6), px(4)}}
		p.Add(l)
		if h.Name != "" {
			p.Legend.Add(h.Name, l)
		}
	}
	for si, s := range c.Series {
		col := seriesColors[si%len(seriesColors)]
		line := draw.LineStyle{Color: col, Width: px(2.2)}
		segs := segments(s)
		var thumbs []plot.Thumbnailer
		for _, seg := range segs {
			all = append(all, seg...)
			l, err := plotter.NewLine(seg)
			if err != nil {
				return fmt.Errorf("%s: series %d (%q): %w", c.name(), si, s.Name, err)
			}
			l.LineStyle = line
			p.Add(l)
			if len(thumbs) == 0 {
				thumbs = append(thumbs, l)
			}
		}
		n := 0
		for _, seg := range segs {
			n += len(seg)
		}
		if n <= maxMarkedPoints {
			for _, seg := range segs {
				sc, err := plotter.NewScatter(seg)
				if err != nil {
					return fmt.Errorf("%s: series %d (%q): %w", c.name(), si, s.Name, err)
				}
				sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: px(3.5), Shape: markerShapes[si%len(markerShapes)]}
				p.Add(sc)
				if len(thumbs) < 2 {
					thumbs = append(thumbs, sc)
				}
			}
		}
		if s.Name != "" && len(thumbs) > 0 {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	// A little room around the data on linear axes.
	if !c.LogX {
		widen(&p.X)
	}
	if !c.LogY {
		widen(&p.Y)
	}
	c.placeLegend(p, all)
	p.Legend.Padding = px(4)
	p.Legend.XOffs, p.Legend.YOffs = -px(10), -px(10)
	if p.Legend.Left {
		p.Legend.XOffs = px(10)
	}
	if !p.Legend.Top {
		p.Legend.YOffs = px(10)
	}
	p.Draw(draw.Crop(dc, px(10), -px(14), px(8), -px(10)))
	return nil
}

// widen pads an axis range by 4% on both sides (or ±1 for a single value).
func widen(a *plot.Axis) {
	d := (a.Max - a.Min) * 0.04
	if d == 0 {
		d = math.Max(1, math.Abs(a.Min)*0.05)
	}
	a.Min, a.Max = a.Min-d, a.Max+d
}

// placeLegend puts the legend in the corner of the plot whose quarter
// (35% wide, 30% high) holds the fewest points, preferring top right.
func (c *LineChart) placeLegend(p *plot.Plot, pts plotter.XYs) {
	norm := func(a *plot.Axis, v float64) float64 {
		if a.Scale != nil {
			if _, ok := a.Scale.(plot.LogScale); ok {
				return (math.Log(v) - math.Log(a.Min)) / (math.Log(a.Max) - math.Log(a.Min))
			}
		}
		return (v - a.Min) / (a.Max - a.Min)
	}
	corners := []struct{ top, left bool }{{true, false}, {false, false}, {true, true}, {false, true}}
	best, bestN := 0, math.MaxInt
	for k, corner := range corners {
		n := 0
		for _, q := range pts {
			u, v := norm(&p.X, q.X), norm(&p.Y, q.Y)
			inX := (corner.left && u < 0.35) || (!corner.left && u > 0.65)
			inY := (corner.top && v > 0.7) || (!corner.top && v < 0.3)
			if inX && inY {
				n++
			}
		}
		if n < bestN {
			best, bestN = k, n
		}
	}
	p.Legend.Top, p.Legend.Left = corners[best].top, corners[best].left
}

// WritePNG draws the chart and writes it to path as a PNG, atomically.
func (c *LineChart) WritePNG(path string) error { return WritePNG(path, c) }

// linearTicks places about n labelled ticks at a 1-2-2.5-5 step.
type linearTicks struct{ n int }

// Ticks returns the ticks in [lo, hi].
func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := niceStep((hi - lo) / float64(t.n))
	d := 0
	for ; d < 12; d++ {
		if m := step * math.Pow(10, float64(d)); math.Abs(m-math.Round(m)) < 1e-6*math.Max(1, m) {
			break
		}
	}
	var out []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, plot.Tick{Value: v, Label: formatFixed(v, d)})
	}
	return out
}

// niceStep returns the smallest of 1, 2, 2.5 and 5 times a power of ten
// that is at least raw.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}
