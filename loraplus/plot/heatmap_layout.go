package plot

import (
	"image"
	"math"
	"strings"
)

// heatLayout is the geometry and the precomputed labels of a heatmap.
type heatLayout struct {
	size     image.Point
	nx, ny   int
	cell     int
	plot     image.Rectangle // the grid of cells
	cbar     image.Rectangle // the colour gradient
	lo, hi   float64         // colour scale range
	xLabels  []string        // per column; "" where skipped to avoid overlap
	yLabels  []string        // per row; "" where skipped
	cbTicks  []float64
	cbLabels []string
	decimals int // decimals of cell values; -1 when values are not drawn
	legend   []legendKey
	titleY   int // centre line of the title
	xTickY   int // centre line of x tick labels
	xLabelY  int // centre line of the x-axis label
	legendY  int // centre line of the key
	yLabelX  int // centre column of the rotated y-axis label
	cbLabelX int // centre column of the rotated colorbar label
}

// legendKey is one entry of the key under a heatmap.
type legendKey struct {
	kind  int // keyDiverged, keyMark or keyBest
	label string
}

const (
	keyDiverged = iota
	keyMark
	keyBest
)

// legendKeyWidth is the width of one key entry: a 14-pixel swatch, a gap
// and the label.
func legendKeyWidth(k legendKey) int { return 14 + 5 + textWidth(k.label) }

const legendKeySpacing = 18

// cellRect is the pixel rectangle of cell (iy, ix); row 0 is at the bottom.
func (l *heatLayout) cellRect(iy, ix int) image.Rectangle {
	x0 := l.plot.Min.X + ix*l.cell
	y1 := l.plot.Max.Y - iy*l.cell
	return image.Rect(x0, y1-l.cell, x0+l.cell, y1)
}

// norm maps a value to [0, 1] on the colour scale, best values at 1.
func (l *heatLayout) norm(v float64, lowerIsBetter bool) float64 {
	t := (v - l.lo) / (l.hi - l.lo)
	t = math.Max(0, math.Min(1, t))
	if lowerIsBetter {
		t = 1 - t
	}
	return t
}

// layout computes the geometry of the figure.
func (h *Heatmap) layout() *heatLayout {
	l := &heatLayout{nx: len(h.X), ny: len(h.Y)}
	l.lo, l.hi = h.colourRange()

	l.cell = h.CellSize
	if l.cell == 0 {
		l.cell = max(44, min(96, 640/max(l.nx, l.ny)))
	}
	l.decimals = -1
	if !h.HideValues {
		l.decimals = h.valueDecimals(l.cell - 6)
	}

	sci := h.LogAxes
	xs := make([]string, l.nx)
	for i, v := range h.X {
		xs[i] = formatValue(v, sci)
	}
	ys := make([]string, l.ny)
	for i, v := range h.Y {
		ys[i] = formatValue(v, sci)
	}
	l.xLabels = thinLabels(xs, l.cell, func(s string) int { return textWidth(s) + 8 })
	l.yLabels = thinLabels(ys, l.cell, func(string) int { return lineHeight + 3 })

	plotH := l.ny * l.cell
	var step float64
	l.cbTicks, step = linearTicks(l.lo, l.hi, max(3, min(8, plotH/45)))
	d := stepDecimals(step)
	for _, v := range l.cbTicks {
		l.cbLabels = append(l.cbLabels, formatFixed(v, d))
	}

	if h.hasNonFinite() {
		l.legend = append(l.legend, legendKey{keyDiverged, "diverged"})
	}
	if h.MarksLabel != "" && h.hasMarks() {
		l.legend = append(l.legend, legendKey{keyMark, h.MarksLabel})
	}
	if h.Best != nil {
		l.legend = append(l.legend, legendKey{keyBest, "best"})
	}

	// Horizontal layout.
	x := pad
	if h.YLabel != "" {
		l.yLabelX = x + lineHeight/2
		x += lineHeight + labelGap
	}
	x += maxWidth(ys) + tickGap + tickLen
	l.plot.Min.X = x
	l.plot.Max.X = x + l.nx*l.cell
	l.cbar.Min.X = l.plot.Max.X + cbarGap
	l.cbar.Max.X = l.cbar.Min.X + cbarWidth
	x = l.cbar.Max.X + tickLen + tickGap + maxWidth(l.cbLabels)
	if h.ColorbarLabel != "" {
		x += labelGap
		l.cbLabelX = x + lineHeight/2
		x += lineHeight
	}
	w := x + pad

	// Vertical layout.
	y := pad
	if h.Title != "" {
		l.titleY = y + lineHeight/2
		y += lineHeight + titleGap
	}
	y += lineHeight / 2 // room for the top tick labels
	l.plot.Min.Y = y
	l.plot.Max.Y = y + plotH
	l.cbar.Min.Y, l.cbar.Max.Y = l.plot.Min.Y, l.plot.Max.Y
	y = l.plot.Max.Y + tickLen + tickGap
	l.xTickY = y + lineHeight/2
	y += lineHeight
	if h.XLabel != "" {
		y += labelGap
		l.xLabelY = y + lineHeight/2
		y += lineHeight
	}
	if len(l.legend) > 0 {
		y += 12
		l.legendY = y + lineHeight/2
		y += lineHeight
	}
	hgt := max(y+pad, l.plot.Max.Y+pad+lineHeight/2)

	// Wide titles, axis labels or keys widen the figure.
	need := max(textWidth(h.Title), textWidth(h.XLabel), l.legendWidth()) + 2*pad
	w = max(w, need)
	if th := textWidth(h.YLabel); th > plotH {
		hgt += th - plotH
	}
	l.size = image.Pt(w, hgt)
	return l
}

// legendWidth is the total width of the key row.
func (l *heatLayout) legendWidth() int {
	w := 0
	for i, k := range l.legend {
		if i > 0 {
			w += legendKeySpacing
		}
		w += legendKeyWidth(k)
	}
	return w
}

// colourRange returns the value range of the colour scale.
func (h *Heatmap) colourRange() (float64, float64) {
	if h.ZRange != nil {
		return h.ZRange[0], h.ZRange[1]
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range h.Z {
		for _, v := range row {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	switch {
	case lo > hi: // no finite value
		return 0, 1
	case lo == hi:
		d := 0.5
		if lo != 0 {
			d = math.Abs(lo) * 0.05
		}
		return lo - d, hi + d
	}
	return lo, hi
}

// valueDecimals picks the decimals for printing cell values: three
// significant digits of the largest magnitude, or two when three do not
// fit in maxW pixels; -1 (no values) when two do not fit either.
func (h *Heatmap) valueDecimals(maxW int) int {
	maxAbs := 0.0
	for _, row := range h.Z {
		for _, v := range row {
			if finite(v) {
				maxAbs = math.Max(maxAbs, math.Abs(v))
			}
		}
	}
	d := 3
	if maxAbs > 0 {
		d = max(0, 2-int(math.Floor(math.Log10(maxAbs))))
	}
	for least := max(0, d-1); d >= least; d-- {
		fits := true
		for _, row := range h.Z {
			for _, v := range row {
				if finite(v) && textWidth(formatFixed(v, d)) > maxW {
					fits = false
				}
			}
		}
		if fits {
			return d
		}
	}
	return -1
}

// hasNonFinite reports whether Z holds a NaN or infinite value.
func (h *Heatmap) hasNonFinite() bool {
	for _, row := range h.Z {
		for _, v := range row {
			if !finite(v) {
				return true
			}
		}
	}
	return false
}

// hasMarks reports whether any cell is marked.
func (h *Heatmap) hasMarks() bool {
	for _, row := range h.Marks {
		for _, m := range row {
			if m {
				return true
			}
		}
	}
	return false
}

// thinLabels blanks labels so that the remaining ones, spaced every k cells
// of size cell, do not overlap given the space each needs. The phase of
// the kept labels favours powers of ten ("1e-4") when k > 1.
func thinLabels(labels []string, cell int, need func(string) int) []string {
	widest := 0
	for _, s := range labels {
		widest = max(widest, need(s))
	}
	k := max(1, (widest+cell-1)/cell)
	if k == 1 {
		return labels
	}
	bestPhase, bestScore := 0, -1
	for p := 0; p < k; p++ {
		score := 0
		for i := p; i < len(labels); i += k {
			if strings.HasPrefix(labels[i], "1e") {
				score++
			}
		}
		if score > bestScore {
			bestPhase, bestScore = p, score
		}
	}
	out := make([]string, len(labels))
	for i := bestPhase; i < len(labels); i += k {
		out[i] = labels[i]
	}
	return out
}

// maxWidth is the widest text width among ss.
func maxWidth(ss []string) int {
	w := 0
	for _, s := range ss {
		w = max(w, textWidth(s))
	}
	return w
}
