package plot

import (
	"image"
	"image/color"
)

// draw paints the heatmap with layout l.
func (h *Heatmap) draw(l *heatLayout) *image.RGBA {
	img := image.NewRGBA(image.Rectangle{Max: l.size})
	fillRect(img, img.Bounds(), white)

	fills := h.drawCells(img, l)
	textBoxes := h.cellTextBoxes(l)
	if h.Diagonal {
		drawDiagonal(img, l, diagonalPath(h.X, h.Y, h.LogAxes, l.plot, l.cell), textBoxes)
	}
	h.drawMarks(img, l, fills)
	for iy, row := range h.Z {
		for ix, v := range row {
			if r, ok := textBoxes[[2]int{iy, ix}]; ok {
				c := r.Min.Add(r.Max).Div(2)
				drawText(img, formatFixed(v, l.decimals), c.X, c.Y, alignCenter, contrastText(fills[iy][ix]))
			}
		}
	}
	if h.Best != nil {
		strokeRect(img, l.cellRect(h.Best[0], h.Best[1]), 3, bestColor)
	}
	strokeRect(img, l.plot.Inset(-1), 1, frameColor)
	h.drawAxes(img, l)
	h.drawColorbar(img, l)
	h.drawKey(img, l)
	return img
}

// drawCells fills the cells and the thin white lines between them, and
// returns the fill colour of every cell.
func (h *Heatmap) drawCells(img *image.RGBA, l *heatLayout) [][]color.RGBA {
	fills := make([][]color.RGBA, l.ny)
	for iy, row := range h.Z {
		fills[iy] = make([]color.RGBA, l.nx)
		for ix, v := range row {
			c := nanColor
			if finite(v) {
				c = Viridis(l.norm(v, h.LowerIsBetter))
			}
			fills[iy][ix] = c
			fillRect(img, l.cellRect(iy, ix), c)
		}
	}
	if l.cell >= 12 {
		for ix := 1; ix < l.nx; ix++ {
			x := l.plot.Min.X + ix*l.cell
			fillRect(img, image.Rect(x, l.plot.Min.Y, x+1, l.plot.Max.Y), white)
		}
		for iy := 1; iy < l.ny; iy++ {
			y := l.plot.Min.Y + iy*l.cell
			fillRect(img, image.Rect(l.plot.Min.X, y, l.plot.Max.X, y+1), white)
		}
	}
	return fills
}

// cellTextBoxes returns the rectangle of the printed value of every cell
// that shows one, keyed by {iy, ix}.
func (h *Heatmap) cellTextBoxes(l *heatLayout) map[[2]int]image.Rectangle {
	boxes := map[[2]int]image.Rectangle{}
	if l.decimals < 0 {
		return boxes
	}
	for iy, row := range h.Z {
		for ix, v := range row {
			if !finite(v) {
				continue
			}
			w := textWidth(formatFixed(v, l.decimals))
			c := l.cellRect(iy, ix)
			ctr := c.Min.Add(c.Max).Div(2)
			boxes[[2]int{iy, ix}] = image.Rect(ctr.X-w/2, ctr.Y-lineHeight/2, ctr.X-w/2+w, ctr.Y-lineHeight/2+lineHeight)
		}
	}
	return boxes
}

// drawDiagonal draws path dashed, white with dark edges so that it shows
// on every colour, leaving out the dashes that would cross a printed cell
// value.
func drawDiagonal(img *image.RGBA, l *heatLayout, path []point, textBoxes map[[2]int]image.Rectangle) {
	var dark, light canvas
	for _, d := range dashes(path, 9, 6) {
		if hitsAny(d, textBoxes) {
			continue
		}
		dark.polyline(d, 4.2)
		light.polyline(d, 2.0)
	}
	dark.paint(img, l.plot, diagDark)
	light.paint(img, l.plot, diagLight)
}

// hitsAny reports whether the polyline d comes within 3 pixels of a box.
func hitsAny(d []point, boxes map[[2]int]image.Rectangle) bool {
	for _, r := range boxes {
		g := r.Inset(-3)
		for i := 1; i < len(d); i++ {
			if _, _, ok := clipSegment(d[i-1], d[i], float64(g.Min.X), float64(g.Min.Y), float64(g.Max.X), float64(g.Max.Y)); ok {
				return true
			}
		}
	}
	return false
}

// drawMarks draws a cross in every marked cell: small in the top-right
// corner when the cell shows its value, large and centred otherwise.
func (h *Heatmap) drawMarks(img *image.RGBA, l *heatLayout, fills [][]color.RGBA) {
	for iy, row := range h.Marks {
		for ix, m := range row {
			if !m {
				continue
			}
			r := l.cellRect(iy, ix)
			var ctr point
			var half, w float64
			if l.decimals >= 0 && finite(h.Z[iy][ix]) {
				half, w = 3.5, 1.6
				ctr = point{float64(r.Max.X) - 6 - half, float64(r.Min.Y) + 6 + half}
			} else {
				half, w = 0.26*float64(l.cell), 2.2
				ctr = point{float64(r.Min.X+r.Max.X) / 2, float64(r.Min.Y+r.Max.Y) / 2}
			}
			var c canvas
			crossShape(&c, ctr, half, w)
			c.paint(img, r, contrastText(fills[iy][ix]))
		}
	}
}

// crossShape adds an "x" of half-size half and stroke width w at ctr.
func crossShape(c *canvas, ctr point, half, w float64) {
	c.segment(point{ctr.X - half, ctr.Y - half}, point{ctr.X + half, ctr.Y + half}, w)
	c.segment(point{ctr.X - half, ctr.Y + half}, point{ctr.X + half, ctr.Y - half}, w)
}

// drawAxes draws ticks, tick labels, axis labels and the title.
func (h *Heatmap) drawAxes(img *image.RGBA, l *heatLayout) {
	for ix := 0; ix < l.nx; ix++ {
		x := l.plot.Min.X + ix*l.cell + l.cell/2
		fillRect(img, image.Rect(x, l.plot.Max.Y+1, x+1, l.plot.Max.Y+1+tickLen), frameColor)
		drawText(img, l.xLabels[ix], x, l.xTickY, alignCenter, inkColor)
	}
	for iy := 0; iy < l.ny; iy++ {
		y := l.plot.Max.Y - iy*l.cell - l.cell/2
		fillRect(img, image.Rect(l.plot.Min.X-1-tickLen, y, l.plot.Min.X-1, y+1), frameColor)
		drawText(img, l.yLabels[iy], l.plot.Min.X-1-tickLen-tickGap, y, alignRight, inkColor)
	}
	cx := (l.plot.Min.X + l.plot.Max.X) / 2
	if h.XLabel != "" {
		drawText(img, h.XLabel, clampCentre(cx, textWidth(h.XLabel), l.size.X), l.xLabelY, alignCenter, inkColor)
	}
	if h.YLabel != "" {
		cy := clampCentre((l.plot.Min.Y+l.plot.Max.Y)/2, textWidth(h.YLabel), l.size.Y)
		drawTextVertical(img, h.YLabel, l.yLabelX, cy, inkColor)
	}
	if h.Title != "" {
		drawBoldText(img, h.Title, clampCentre(cx, textWidth(h.Title)+1, l.size.X), l.titleY, alignCenter, inkColor)
	}
}

// clampCentre moves the centre c of a run of width w so that the run stays
// inside [pad, size-pad].
func clampCentre(c, w, size int) int {
	if c-w/2 < pad {
		c = pad + w/2
	}
	if c+(w-w/2) > size-pad {
		c = size - pad - (w - w/2)
	}
	return c
}

// drawColorbar draws the colour gradient with its ticks and label.
func (h *Heatmap) drawColorbar(img *image.RGBA, l *heatLayout) {
	b := l.cbar
	n := b.Dy()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		v := l.lo + (l.hi-l.lo)*(float64(b.Max.Y-y)-0.5)/float64(n)
		fillRect(img, image.Rect(b.Min.X, y, b.Max.X, y+1), Viridis(l.norm(v, h.LowerIsBetter)))
	}
	strokeRect(img, b.Inset(-1), 1, frameColor)
	for i, v := range l.cbTicks {
		y := b.Max.Y - int(float64(n)*(v-l.lo)/(l.hi-l.lo)+0.5)
		y = max(b.Min.Y, min(b.Max.Y-1, y))
		fillRect(img, image.Rect(b.Max.X+1, y, b.Max.X+1+tickLen, y+1), frameColor)
		drawText(img, l.cbLabels[i], b.Max.X+1+tickLen+tickGap, y, alignLeft, inkColor)
	}
	if h.ColorbarLabel != "" {
		cy := clampCentre((b.Min.Y+b.Max.Y)/2, textWidth(h.ColorbarLabel), l.size.Y)
		drawTextVertical(img, h.ColorbarLabel, l.cbLabelX, cy, inkColor)
	}
}

// drawKey draws the row explaining grey cells, crosses and the outline.
func (h *Heatmap) drawKey(img *image.RGBA, l *heatLayout) {
	if len(l.legend) == 0 {
		return
	}
	w := l.legendWidth()
	x := clampCentre((l.plot.Min.X+l.plot.Max.X)/2, w, l.size.X) - w/2
	y := l.legendY
	for _, k := range l.legend {
		sw := image.Rect(x, y-6, x+14, y+7)
		switch k.kind {
		case keyDiverged:
			fillRect(img, sw, nanColor)
		case keyMark:
			var c canvas
			crossShape(&c, point{float64(x) + 7, float64(y) + 0.5}, 4, 1.8)
			c.paint(img, sw, inkColor)
		case keyBest:
			strokeRect(img, sw, 2, bestColor)
		}
		drawText(img, k.label, x+19, y, alignLeft, inkColor)
		x += legendKeyWidth(k) + legendKeySpacing
	}
}
