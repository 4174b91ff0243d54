package plot

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// cells adapts a Heatmap to gonum's plotter.GridXYZ: column c sits at
// pos(X[c]), row r at pos(Y[r]), where pos is log10 on log axes. Non-finite
// values read as NaN, which the heat map draws as missing.
type cells struct{ h *Heatmap }

func (g cells) Dims() (int, int) { return len(g.h.X), len(g.h.Y) }

func (g cells) Z(c, r int) float64 {
	if v := g.h.Z[r][c]; finite(v) {
		return v
	}
	return math.NaN()
}

func (g cells) X(c int) float64 { return g.h.pos(g.h.X[c]) }
func (g cells) Y(r int) float64 { return g.h.pos(g.h.Y[r]) }

// pos maps an axis value to plot coordinates.
func (h *Heatmap) pos(v float64) float64 {
	if h.LogAxes {
		return math.Log10(v)
	}
	return v
}

// span is a cell's extent along one axis, in plot coordinates.
type span struct{ lo, hi float64 }

// spans returns the extents of the cells at vals: each reaches halfway to
// its neighbours, and the outer ones as far out as inwards (half a unit,
// a decade on log axes, for a single value), as plotter.HeatMap draws them.
func (h *Heatmap) spans(vals []float64) []span {
	out := make([]span, len(vals))
	if len(vals) == 1 {
		p := h.pos(vals[0])
		out[0] = span{p - 0.5, p + 0.5}
		return out
	}
	o := order(vals)
	for k, i := range o {
		p := h.pos(vals[i])
		var lo, hi float64
		if k > 0 {
			lo = (p + h.pos(vals[o[k-1]])) / 2
		}
		if k < len(o)-1 {
			hi = (p + h.pos(vals[o[k+1]])) / 2
		}
		if k == 0 {
			lo = p - (hi - p)
		}
		if k == len(o)-1 {
			hi = p + (p - lo)
		}
		out[i] = span{lo, hi}
	}
	return out
}

// sortedGrid returns a copy of h's grid with X and Y increasing, as
// plotter.HeatMap needs, and Z, Marks and Best permuted alike.
func (h *Heatmap) sortedGrid() *Heatmap {
	s := *h
	ox, oy := order(h.X), order(h.Y)
	s.X, s.Y = make([]float64, len(ox)), make([]float64, len(oy))
	for i, j := range ox {
		s.X[i] = h.X[j]
	}
	for i, j := range oy {
		s.Y[i] = h.Y[j]
	}
	s.Z = make([][]float64, len(oy))
	if h.Marks != nil {
		s.Marks = make([][]bool, len(oy))
	}
	for r, jr := range oy {
		s.Z[r] = make([]float64, len(ox))
		if h.Marks != nil {
			s.Marks[r] = make([]bool, len(ox))
		}
		for c, jc := range ox {
			s.Z[r][c] = h.Z[jr][jc]
			if h.Marks != nil {
				s.Marks[r][c] = h.Marks[jr][jc]
			}
		}
		if h.Best != nil && h.Best[0] == jr {
			for c, jc := range ox {
				if h.Best[1] == jc {
					s.Best = &[2]int{r, c}
				}
			}
		}
	}
	return &s
}

// Draw checks the heat map and draws it on c: the grid with its axes, the
// colour bar on the right and the key (diverged, marks, best, diagonal)
// underneath.
func (h *Heatmap) Draw(c draw.Canvas) error {
	if err := h.validate(); err != nil {
		return err
	}
	s := h.sortedGrid()
	lo, hi := s.colourRange()
	cmap := NewViridisMap(lo, hi, s.LowerIsBetter)
	pal := cmap.Palette(256)

	key := s.key()
	keyH := vg.Length(0)
	if len(key) > 0 {
		keyH = px(34)
	}
	const cbarW = 110 // pixels right of the grid: gap, colour-bar axis and bar
	pad := px(12)
	main := draw.Crop(c, pad, -px(cbarW)-pad, keyH+pad/2, -pad)

	p := newPlot(s.Title, s.XLabel, s.YLabel)
	hm := plotter.NewHeatMap(cells{s}, pal)
	hm.Min, hm.Max = lo, hi
	hm.NaN = nanColor
	cols := pal.Colors()
	hm.Underflow, hm.Overflow = cols[0], cols[len(cols)-1]
	p.Add(hm, &cellEdges{s})
	xs, ys := s.spans(s.X), s.spans(s.Y)
	p.X.Min, p.X.Max = xs[0].lo, xs[len(xs)-1].hi
	p.Y.Min, p.Y.Max = ys[0].lo, ys[len(ys)-1].hi
	p.X.Padding, p.Y.Padding = 0, 0

	// Tick labels at the cell values, thinned so that they do not overlap.
	cellW := float64(main.Max.X-main.Min.X-px(90)) / float64(len(s.X))
	cellH := float64(main.Max.Y-main.Min.Y-px(90)) / float64(len(s.Y))
	p.X.Tick.Marker = s.cellTicks(s.X, func(l string) float64 { return float64(p.X.Tick.Label.Width(l) + px(8)) }, cellW)
	p.Y.Tick.Marker = s.cellTicks(s.Y, func(l string) float64 { return float64(p.X.Tick.Label.Height(l) + px(4)) }, cellH)

	if s.Diagonal {
		if d := s.diagonal(); d != nil {
			p.Add(d...)
		}
	}
	if !s.HideValues {
		if lb := s.valueLabels(cmap, cellW, cellH); lb != nil {
			p.Add(lb)
		}
	}
	if m := s.marks(cmap, xs, ys); m != nil {
		p.Add(m)
	}
	if b := s.best(xs, ys); b != nil {
		p.Add(b)
	}
	p.Draw(main)

	// Colour bar, aligned with the grid's data area.
	data := p.DataCanvas(main)
	cb := plot.New()
	cb.HideX()
	cb.X.Padding, cb.Y.Padding = 0, 0
	cb.Y.Label.Text = s.ColorbarLabel
	cb.Y.Label.TextStyle.Handler = textHandler
	cb.Y.Label.TextStyle.Font.Size = 12
	cb.Y.Tick.Label.Font.Size = 10
	cb.Y.Tick.Marker = linearTicks{6}
	cb.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	region := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: data.Max.X + px(16), Y: data.Min.Y},
		Max: vg.Point{X: c.Max.X - pad, Y: data.Max.Y}}}
	axisW := cb.DataCanvas(region).Min.X - region.Min.X
	region.Max.X = min(region.Max.X, region.Min.X+axisW+px(18))
	cb.Draw(region)

	s.drawKey(draw.Crop(c, 0, 0, pad/2, -(c.Max.Y-c.Min.Y-keyH-pad/2)), key)
	return nil
}

// cellTicks returns a ticker labelling the cells at vals, every k-th where
// labels of width need(label) would not fit in cells of size cell.
func (h *Heatmap) cellTicks(vals []float64, need func(string) float64, cell float64) plot.Ticker {
	var t plot.ConstantTicks
	labels := make([]string, len(vals))
	widest := 0.0
	for i, v := range vals {
		labels[i] = formatValue(v)
		widest = math.Max(widest, need(labels[i]))
	}
	k := 1
	if cell > 0 {
		k = max(1, int(math.Ceil(widest/cell)))
	}
	for i, v := range vals {
		tk := plot.Tick{Value: h.pos(v)}
		if i%k == 0 {
			tk.Label = labels[i]
		}
		t = append(t, tk)
	}
	return t
}

// valueLabels prints each finite value in its cell, in black or white to
// contrast with the fill, at a font size that fits the cell; nil when even
// 6 points do not fit.
func (h *Heatmap) valueLabels(cmap *ViridisMap, cellW, cellH float64) *plotter.Labels {
	d := h.valueDecimals()
	var xyl plotter.XYLabels
	var fills []color.Color
	for r, row := range h.Z {
		for c, v := range row {
			if !finite(v) {
				continue
			}
			xyl.XYs = append(xyl.XYs, plotter.XY{X: h.pos(h.X[c]), Y: h.pos(h.Y[r])})
			xyl.Labels = append(xyl.Labels, formatFixed(v, d))
			fill, err := cmap.At(math.Max(cmap.Min(), math.Min(cmap.Max(), v)))
			if err != nil {
				fill = nanColor
			}
			fills = append(fills, fill)
		}
	}
	if len(xyl.Labels) == 0 {
		return nil
	}
	lb, err := plotter.NewLabels(xyl)
	if err != nil {
		return nil
	}
	size := 10.0
	widest := 0.0
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font.Size = vg.Length(size)
		widest = math.Max(widest, float64(lb.TextStyle[i].Width(xyl.Labels[i])))
	}
	size = math.Min(size, size*0.8*cellW/widest)
	size = math.Min(size, 0.35*cellH)
	if size < 6 {
		return nil
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font.Size = vg.Length(size)
		lb.TextStyle[i].XAlign, lb.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		lb.TextStyle[i].Color = contrastText(fills[i])
		lb.TextStyle[i].Handler = textHandler
	}
	return lb
}

// formatFixed prints v with d decimals, never as "-0".
func formatFixed(v float64, d int) string {
	out := strconv.FormatFloat(v, 'f', d, 64)
	if z := strconv.FormatFloat(0, 'f', d, 64); out == "-"+z {
		return z
	}
	return out
}

// diagonal returns the dashed X == Y line across the grid, dark dashes
// with a white core, or nil when the axes' extents do not overlap.
func (h *Heatmap) diagonal() []plot.Plotter {
	xs, ys := h.spans(h.X), h.spans(h.Y)
	lo := math.Max(xs[0].lo, ys[0].lo)
	hi := math.Min(xs[len(xs)-1].hi, ys[len(ys)-1].hi)
	if !(lo < hi) {
		return nil
	}
	pts := plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}
	dark, light := diagonalLines(pts)
	return []plot.Plotter{dark, light}
}

// diagonalLines returns the two strokes of the diagonal through pts.
func diagonalLines(pts plotter.XYs) (*plotter.Line, *plotter.Line) {
	dashes := []vg.Length{px(9), px(6)}
	dark := &plotter.Line{XYs: pts, LineStyle: draw.LineStyle{Color: diagDark, Width: px(3.5), Dashes: dashes}}
	light := &plotter.Line{XYs: pts, LineStyle: draw.LineStyle{Color: diagLight, Width: px(1.5), Dashes: dashes}}
	return dark, light
}

// marks returns a cross in the upper right corner of each marked cell.
func (h *Heatmap) marks(cmap *ViridisMap, xs, ys []span) *plotter.Scatter {
	var pts plotter.XYs
	var fills []color.Color
	for r, row := range h.Marks {
		for c, m := range row {
			if !m {
				continue
			}
			x, y := xs[c], ys[r]
			pts = append(pts, plotter.XY{X: x.hi - 0.14*(x.hi-x.lo), Y: y.hi - 0.14*(y.hi-y.lo)})
			fill := color.Color(nanColor)
			if v := h.Z[r][c]; finite(v) {
				if f, err := cmap.At(math.Max(cmap.Min(), math.Min(cmap.Max(), v))); err == nil {
					fill = f
				}
			}
			fills = append(fills, fill)
		}
	}
	if len(pts) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil
	}
	sc.GlyphStyle = markStyle(color.Black)
	sc.GlyphStyleFunc = func(i int) draw.GlyphStyle { return markStyle(contrastText(fills[i])) }
	return sc
}

// markStyle is the cross of a marked cell.
func markStyle(c color.Color) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Radius: px(5), Shape: thickCross{}}
}

// best returns the red outline of the best cell, or nil.
func (h *Heatmap) best(xs, ys []span) *plotter.Polygon {
	if h.Best == nil {
		return nil
	}
	x, y := xs[h.Best[1]], ys[h.Best[0]]
	// Inset a little so that the whole stroke lies inside the cell.
	ix, iy := 0.03*(x.hi-x.lo), 0.03*(y.hi-y.lo)
	pg, err := plotter.NewPolygon(plotter.XYs{{X: x.lo + ix, Y: y.lo + iy}, {X: x.hi - ix, Y: y.lo + iy},
		{X: x.hi - ix, Y: y.hi - iy}, {X: x.lo + ix, Y: y.hi - iy}})
	if err != nil {
		return nil
	}
	pg.Color = nil
	pg.LineStyle = bestStyle()
	return pg
}

// bestStyle is the stroke of the best-cell outline.
func bestStyle() draw.LineStyle { return draw.LineStyle{Color: bestColor, Width: px(3)} }

// keyEntry is one entry of the key under a heat map.
type keyEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// key returns the key entries that apply: diverged cells, marks, the best
// cell and the diagonal.
func (h *Heatmap) key() []keyEntry {
	var out []keyEntry
	for _, row := range h.Z {
		if hasNonFinite(row) {
			pg, _ := plotter.NewPolygon(plotter.XYs{{}, {X: 1}, {X: 1, Y: 1}})
			pg.Color, pg.LineStyle.Width = nanColor, 0
			out = append(out, keyEntry{"diverged", []plot.Thumbnailer{pg}})
			break
		}
	}
	if h.MarksLabel != "" && anyMarked(h.Marks) {
		sc, _ := plotter.NewScatter(plotter.XYs{{}})
		sc.GlyphStyle = markStyle(color.Black)
		out = append(out, keyEntry{h.MarksLabel, []plot.Thumbnailer{sc}})
	}
	if h.Best != nil {
		out = append(out, keyEntry{"best", []plot.Thumbnailer{outlineThumb{}}})
	}
	if h.Diagonal && h.diagonalLabel() != "" && h.diagonal() != nil {
		dark, light := diagonalLines(nil)
		out = append(out, keyEntry{h.diagonalLabel(), []plot.Thumbnailer{&keyBack{}, dark, light}})
	}
	return out
}

// drawKey draws the entries side by side, centred in c.
func (h *Heatmap) drawKey(c draw.Canvas, entries []keyEntry) {
	if len(entries) == 0 {
		return
	}
	gap := px(22)
	legends := make([]plot.Legend, len(entries))
	widths := make([]vg.Length, len(entries))
	total := vg.Length(0)
	for i, e := range entries {
		l := plot.NewLegend()
		l.TextStyle.Font.Size = 11
		l.TextStyle.Handler = textHandler
		l.Left, l.Top = true, true
		l.ThumbnailWidth = px(22)
		l.Add(e.label, e.thumbs...)
		r := l.Rectangle(c)
		legends[i], widths[i] = l, r.Max.X-r.Min.X
		total += widths[i]
		if i > 0 {
			total += gap
		}
	}
	x := (c.Max.X - c.Min.X - total) / 2
	for i := range legends {
		legends[i].XOffs = x
		legends[i].Draw(c)
		x += widths[i] + gap
	}
}

// keyBack is a mid-grey thumbnail background that makes the white core of
// the diagonal's key entry visible.
type keyBack struct{}

// Thumbnail fills the middle band of the thumbnail.
func (keyBack) Thumbnail(c *draw.Canvas) {
	mid := (c.Min.Y + c.Max.Y) / 2
	h := px(5)
	c.FillPolygon(color.RGBA{0x9A, 0x9A, 0x9A, 0xFF}, []vg.Point{{X: c.Min.X, Y: mid - h}, {X: c.Max.X, Y: mid - h},
		{X: c.Max.X, Y: mid + h}, {X: c.Min.X, Y: mid + h}})
}

// cellEdges draws thin white lines between the cells of a heat map.
type cellEdges struct{ h *Heatmap }

// Plot draws the inner cell edges.
func (e *cellEdges) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	xs, ys := e.h.spans(e.h.X), e.h.spans(e.h.Y)
	sty := draw.LineStyle{Color: white, Width: px(1)}
	x0, x1 := trX(xs[0].lo), trX(xs[len(xs)-1].hi)
	y0, y1 := trY(ys[0].lo), trY(ys[len(ys)-1].hi)
	for _, s := range xs[1:] {
		x := trX(s.lo)
		c.StrokeLine2(sty, x, y0, x, y1)
	}
	for _, s := range ys[1:] {
		y := trY(s.lo)
		c.StrokeLine2(sty, x0, y, x1, y)
	}
}

func hasNonFinite(row []float64) bool {
	for _, v := range row {
		if !finite(v) {
			return true
		}
	}
	return false
}

func anyMarked(m [][]bool) bool {
	for _, row := range m {
		for _, v := range row {
			if v {
				return true
			}
		}
	}
	return false
}

// outlineThumb is the key thumbnail of the best cell: a red square outline.
type outlineThumb struct{}

// Thumbnail draws the outline centred in c.
func (outlineThumb) Thumbnail(c *draw.Canvas) {
	mid := vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}
	h := px(7)
	c.StrokeLines(draw.LineStyle{Color: bestColor, Width: px(2.5)}, []vg.Point{{X: mid.X - h, Y: mid.Y - h},
		{X: mid.X + h, Y: mid.Y - h}, {X: mid.X + h, Y: mid.Y + h}, {X: mid.X - h, Y: mid.Y + h}, {X: mid.X - h, Y: mid.Y - h}})
}

// thickCross is an × glyph drawn with a stroke heavier than gonum's
// CrossGlyph, so that it reads over the cell colours.
type thickCross struct{}

// DrawGlyph draws the cross.
func (thickCross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	ls := draw.LineStyle{Color: sty.Color, Width: px(1.8)}
	r := sty.Radius * 0.75
	c.StrokeLine2(ls, pt.X-r, pt.Y-r, pt.X+r, pt.Y+r)
	c.StrokeLine2(ls, pt.X-r, pt.Y+r, pt.X+r, pt.Y-r)
}
