package plot

import (
	"image"
	"image/color"
	"math"
)

// Line-chart style.
const (
	lineWidth      = 2.2
	markerRadius   = 3.6
	legendRow      = 18
	legendSample   = 28
	legendPad      = 8
	legendInset    = 10
	minorTickLen   = 3
	defaultWidth   = 720
	defaultHeight  = 450
	minTickSpacing = 12 // extra pixels kept between x tick labels
	markerClip     = 5  // markers may overhang the plot frame by this much
)

// chartLayout is the geometry of a line chart.
type chartLayout struct {
	size    image.Point
	plot    image.Rectangle
	x, y    axis
	titleY  int
	xTickY  int
	xLabelY int
	yLabelX int
}

// layout computes axes and geometry.
func (c *LineChart) layout() *chartLayout {
	l := &chartLayout{size: image.Pt(defaultWidth, defaultHeight)}
	if c.Width > 0 {
		l.size.X = c.Width
	}
	if c.Height > 0 {
		l.size.Y = c.Height
	}
	xlo, xhi := c.dataRange(0)
	ylo, yhi := c.dataRange(1)
	l.x = newAxis(xlo, xhi, c.LogX, 0.02)
	l.y = newAxis(ylo, yhi, c.LogY, 0.05)

	// Vertical layout.
	y := pad
	if c.Title != "" {
		l.titleY = y + lineHeight/2
		y += lineHeight + titleGap
	}
	y += lineHeight / 2
	l.plot.Min.Y = y
	bottom := l.size.Y - pad
	if c.XLabel != "" {
		l.xLabelY = bottom - lineHeight/2
		bottom -= lineHeight + labelGap
	}
	l.xTickY = bottom - lineHeight/2
	bottom -= lineHeight + tickGap + tickLen
	l.plot.Max.Y = bottom
	l.y.setTicks(max(3, min(10, l.plot.Dy()/55)))

	// Horizontal layout.
	x := pad
	if c.YLabel != "" {
		l.yLabelX = x + lineHeight/2
		x += lineHeight + labelGap
	}
	x += maxWidth(l.y.labels) + tickGap + tickLen
	l.plot.Min.X = x
	l.plot.Max.X = l.size.X - pad - textWidth("0000")/2
	for target := max(2, min(12, l.plot.Dx()/80)); ; target-- {
		l.x.setTicks(target)
		if target <= 2 || l.x.labelsFit(l.plot.Dx()) {
			break
		}
	}
	return l
}

// labelsFit reports whether the major tick labels of a horizontal axis of
// width w pixels leave room between each other.
func (a axis) labelsFit(w int) bool {
	for i := 1; i < len(a.major); i++ {
		gap := (a.frac(a.major[i]) - a.frac(a.major[i-1])) * float64(w)
		need := float64(textWidth(a.labels[i])+textWidth(a.labels[i-1]))/2 + minTickSpacing
		if gap < need {
			return false
		}
	}
	return true
}

// px converts a data point to pixel coordinates.
func (l *chartLayout) px(x, y float64) point {
	return point{
		X: float64(l.plot.Min.X) + l.x.frac(x)*float64(l.plot.Dx()),
		Y: float64(l.plot.Max.Y) - l.y.frac(y)*float64(l.plot.Dy()),
	}
}

// draw paints the chart with layout l.
func (c *LineChart) draw(l *chartLayout) *image.RGBA {
	img := image.NewRGBA(image.Rectangle{Max: l.size})
	fillRect(img, img.Bounds(), white)
	p := l.plot

	for _, v := range l.x.major {
		x := int(math.Round(l.px(v, l.y.lo).X))
		fillRect(img, image.Rect(x, p.Min.Y, x+1, p.Max.Y), gridColor)
	}
	for _, v := range l.y.major {
		y := int(math.Round(l.px(l.x.lo, v).Y))
		fillRect(img, image.Rect(p.Min.X, y, p.Max.X, y+1), gridColor)
	}

	paths := make([][][]point, len(c.Series))
	for si, s := range c.Series {
		paths[si] = l.seriesPaths(s)
		col := seriesColor(si)
		var cv canvas
		for _, path := range paths[si] {
			if len(path) == 1 {
				cv.disc(path[0], lineWidth/2)
			}
			cv.polyline(path, lineWidth)
		}
		cv.paint(img, p, col)
		if finitePoints(s) <= maxMarkedPoints {
			var mk canvas
			for _, path := range paths[si] {
				for _, q := range path {
					markerShape(&mk, si, q, markerRadius)
				}
			}
			mk.paint(img, p.Inset(-markerClip), col)
		}
	}

	strokeRect(img, p.Inset(-1), 1, frameColor)
	c.drawAxes(img, l)
	c.drawLegend(img, l, paths)
	return img
}

// seriesPaths converts a series to pixel polylines, split at non-finite
// points.
func (l *chartLayout) seriesPaths(s Series) [][]point {
	var out [][]point
	var cur []point
	for i := range s.X {
		if !finite(s.X[i]) || !finite(s.Y[i]) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, l.px(s.X[i], s.Y[i]))
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// finitePoints counts the points of s that are finite in both coordinates.
func finitePoints(s Series) int {
	n := 0
	for i := range s.X {
		if finite(s.X[i]) && finite(s.Y[i]) {
			n++
		}
	}
	return n
}

// seriesColor is the colour of series i.
func seriesColor(i int) color.RGBA { return palette[i%len(palette)].rgba() }

// drawAxes draws ticks, tick labels, axis labels and the title.
func (c *LineChart) drawAxes(img *image.RGBA, l *chartLayout) {
	p := l.plot
	for i, v := range l.x.major {
		x := int(math.Round(l.px(v, l.y.lo).X))
		fillRect(img, image.Rect(x, p.Max.Y+1, x+1, p.Max.Y+1+tickLen), frameColor)
		drawText(img, l.x.labels[i], x, l.xTickY, alignCenter, inkColor)
	}
	for _, v := range l.x.minor {
		x := int(math.Round(l.px(v, l.y.lo).X))
		fillRect(img, image.Rect(x, p.Max.Y+1, x+1, p.Max.Y+1+minorTickLen), frameColor)
	}
	for i, v := range l.y.major {
		y := int(math.Round(l.px(l.x.lo, v).Y))
		fillRect(img, image.Rect(p.Min.X-1-tickLen, y, p.Min.X-1, y+1), frameColor)
		drawText(img, l.y.labels[i], p.Min.X-1-tickLen-tickGap, y, alignRight, inkColor)
	}
	for _, v := range l.y.minor {
		y := int(math.Round(l.px(l.x.lo, v).Y))
		fillRect(img, image.Rect(p.Min.X-1-minorTickLen, y, p.Min.X-1, y+1), frameColor)
	}
	cx := (p.Min.X + p.Max.X) / 2
	if c.XLabel != "" {
		drawText(img, c.XLabel, clampCentre(cx, textWidth(c.XLabel), l.size.X), l.xLabelY, alignCenter, inkColor)
	}
	if c.YLabel != "" {
		cy := clampCentre((p.Min.Y+p.Max.Y)/2, textWidth(c.YLabel), l.size.Y)
		drawTextVertical(img, c.YLabel, l.yLabelX, cy, inkColor)
	}
	if c.Title != "" {
		drawBoldText(img, c.Title, clampCentre(cx, textWidth(c.Title)+1, l.size.X), l.titleY, alignCenter, inkColor)
	}
}

// drawLegend draws the named series in a framed box, in the plot corner
// covering the fewest drawn data points.
func (c *LineChart) drawLegend(img *image.RGBA, l *chartLayout, paths [][][]point) {
	var idx []int
	w := 0
	for si, s := range c.Series {
		if s.Name != "" {
			idx = append(idx, si)
			w = max(w, textWidth(s.Name))
		}
	}
	if len(idx) == 0 {
		return
	}
	size := image.Pt(legendPad*2+legendSample+8+w, legendPad*2+legendRow*len(idx)-4)
	p := l.plot
	corners := []image.Point{
		{p.Max.X - legendInset - size.X, p.Min.Y + legendInset},
		{p.Max.X - legendInset - size.X, p.Max.Y - legendInset - size.Y},
		{p.Min.X + legendInset, p.Min.Y + legendInset},
		{p.Min.X + legendInset, p.Max.Y - legendInset - size.Y},
	}
	best, bestHits := corners[0], math.MaxInt
	for _, at := range corners {
		box := image.Rectangle{Min: at, Max: at.Add(size)}
		if h := pathHits(paths, box.Inset(-4)); h < bestHits {
			best, bestHits = at, h
		}
	}
	box := image.Rectangle{Min: best, Max: best.Add(size)}
	fillRect(img, box, white)
	strokeRect(img, box, 1, color.RGBA{0xBB, 0xBB, 0xBB, 0xFF})
	for row, si := range idx {
		y := box.Min.Y + legendPad + row*legendRow + lineHeight/2
		x0 := float64(box.Min.X + legendPad)
		col := seriesColor(si)
		var cv canvas
		cv.segment(point{x0, float64(y) + 0.5}, point{x0 + legendSample, float64(y) + 0.5}, lineWidth)
		if finitePoints(c.Series[si]) <= maxMarkedPoints {
			markerShape(&cv, si, point{x0 + legendSample/2, float64(y) + 0.5}, markerRadius)
		}
		cv.paint(img, box, col)
		drawText(img, c.Series[si].Name, box.Min.X+legendPad+legendSample+8, y, alignLeft, inkColor)
	}
}

// pathHits counts points sampled every 3 pixels along paths that fall in r.
func pathHits(paths [][][]point, r image.Rectangle) int {
	in := func(q point) bool {
		return q.X >= float64(r.Min.X) && q.X < float64(r.Max.X) && q.Y >= float64(r.Min.Y) && q.Y < float64(r.Max.Y)
	}
	n := 0
	for _, series := range paths {
		for _, path := range series {
			for i, q := range path {
				if in(q) {
					n += 3
				}
				if i == 0 {
					continue
				}
				a := path[i-1]
				steps := int(math.Hypot(q.X-a.X, q.Y-a.Y) / 3)
				for k := 1; k < steps; k++ {
					if in(lerpPoint(a, q, float64(k)/float64(steps))) {
						n++
					}
				}
			}
		}
	}
	return n
}

// markerShape adds the marker of series si (circle, square, triangle,
// diamond, inverted triangle, cycling) centred at q with radius r.
func markerShape(c *canvas, si int, q point, r float64) {
	switch si % 5 {
	case 0:
		c.disc(q, r)
	case 1:
		s := r * 0.9
		c.polygon([]point{{q.X - s, q.Y - s}, {q.X + s, q.Y - s}, {q.X + s, q.Y + s}, {q.X - s, q.Y + s}})
	case 2:
		s := r * 1.25
		c.polygon([]point{{q.X, q.Y - s}, {q.X + s*0.87, q.Y + s/2}, {q.X - s*0.87, q.Y + s/2}})
	case 3:
		s := r * 1.25
		c.polygon([]point{{q.X, q.Y - s}, {q.X + s, q.Y}, {q.X, q.Y + s}, {q.X - s, q.Y}})
	default:
		s := r * 1.25
		c.polygon([]point{{q.X, q.Y + s}, {q.X + s*0.87, q.Y - s/2}, {q.X - s*0.87, q.Y - s/2}})
	}
}
