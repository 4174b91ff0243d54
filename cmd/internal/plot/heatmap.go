package plot

import (
	"fmt"
	"math"
	"sort"
)

// maxGridSide bounds the number of rows and columns of a heat map.
const maxGridSide = 200

// Heatmap is a grid of values over two axes, typically a learning-rate sweep
// with η_A on X and η_B on Y (paper Figures 2-4). Cells are placed at their
// axis values (on a log10 scale with LogAxes), so increasing values grow
// upwards and to the right whatever the order of X and Y; each cell reaches
// halfway to its neighbours.
type Heatmap struct {
	// Title is drawn above the grid.
	Title string
	// XLabel and YLabel name the axes, e.g. "η_A" and "η_B" (see
	// the package doc for subscripts).
	XLabel, YLabel string
	// X and Y hold the axis values, one per column and per row; each must
	// hold distinct finite values.
	X, Y []float64
	// Z holds the cell values, shape [len(Y)][len(X)]: Z[iy][ix]. NaN and
	// ±Inf mark diverged runs and are drawn grey, as missing.
	Z [][]float64
	// LowerIsBetter reverses the colour map so that the best values (losses)
	// are the bright end of viridis, as the highest accuracies are otherwise.
	LowerIsBetter bool
	// Marks, when non-nil, has the shape of Z; true cells get a cross (for
	// instance runs within 1% of the best, see NearBest).
	Marks [][]bool
	// MarksLabel, when set, explains the crosses in the key under the plot.
	MarksLabel string
	// Best, when non-nil, is the {iy, ix} index of the cell to outline in
	// red (see BestCell).
	Best *[2]int
	// Diagonal draws the dashed X == Y line (where η_A = η_B).
	Diagonal bool
	// DiagonalLabel names the diagonal in the key; empty means
	// "XLabel = YLabel".
	DiagonalLabel string
	// LogAxes puts X and Y on a log10 scale; their values must then be
	// positive.
	LogAxes bool
	// ColorbarLabel names the quantity shown by the colour (loss, accuracy).
	ColorbarLabel string
	// ZRange, when non-nil, fixes the {min, max} value range of the colour
	// scale, so that several panels share one scale; by default the range
	// of the finite values of Z is used. Values outside it get the colour
	// of the nearer end.
	ZRange *[2]float64
	// Width and Height are the image size in pixels; 0 picks one from the
	// grid size.
	Width, Height int
	// HideValues suppresses the numbers printed inside the cells.
	HideValues bool
}

var _ Figure = (*Heatmap)(nil)

// name identifies the heat map in error messages.
func (h *Heatmap) name() string {
	if h.Title != "" {
		return fmt.Sprintf("plot: heatmap %q", h.Title)
	}
	return "plot: heatmap"
}

// validate checks shapes and values before drawing.
func (h *Heatmap) validate() error {
	n := h.name()
	if len(h.X) == 0 || len(h.Y) == 0 {
		return fmt.Errorf("%s: empty axis: len(X)=%d, len(Y)=%d", n, len(h.X), len(h.Y))
	}
	if len(h.X) > maxGridSide || len(h.Y) > maxGridSide {
		return fmt.Errorf("%s: grid %dx%d exceeds %d cells per side", n, len(h.Y), len(h.X), maxGridSide)
	}
	if len(h.Z) != len(h.Y) {
		return fmt.Errorf("%s: Z has %d rows but len(Y)=%d (want Z[len(Y)][len(X)])", n, len(h.Z), len(h.Y))
	}
	for iy, row := range h.Z {
		if len(row) != len(h.X) {
			return fmt.Errorf("%s: Z[%d] has %d columns but len(X)=%d", n, iy, len(row), len(h.X))
		}
	}
	if h.Marks != nil {
		if len(h.Marks) != len(h.Y) {
			return fmt.Errorf("%s: Marks has %d rows but len(Y)=%d", n, len(h.Marks), len(h.Y))
		}
		for iy, row := range h.Marks {
			if len(row) != len(h.X) {
				return fmt.Errorf("%s: Marks[%d] has %d columns but len(X)=%d", n, iy, len(row), len(h.X))
			}
		}
	}
	if b := h.Best; b != nil && (b[0] < 0 || b[0] >= len(h.Y) || b[1] < 0 || b[1] >= len(h.X)) {
		return fmt.Errorf("%s: Best={%d, %d} ({iy, ix}) outside the %dx%d grid", n, b[0], b[1], len(h.Y), len(h.X))
	}
	for _, ax := range []struct {
		name string
		v    []float64
	}{{"X", h.X}, {"Y", h.Y}} {
		for i, v := range ax.v {
			if !finite(v) {
				return fmt.Errorf("%s: %s[%d]=%g is not finite", n, ax.name, i, v)
			}
			if h.LogAxes && v <= 0 {
				return fmt.Errorf("%s: %s[%d]=%g is not positive, as a log axis requires", n, ax.name, i, v)
			}
		}
		o := order(ax.v)
		for k := 1; k < len(o); k++ {
			if ax.v[o[k]] == ax.v[o[k-1]] {
				return fmt.Errorf("%s: %s[%d] and %s[%d] are both %g; axis values must be distinct",
					n, ax.name, o[k-1], ax.name, o[k], ax.v[o[k]])
			}
		}
	}
	if r := h.ZRange; r != nil && (!finite(r[0]) || !finite(r[1]) || r[0] >= r[1]) {
		return fmt.Errorf("%s: ZRange={%g, %g} must be finite with min < max", n, r[0], r[1])
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"Width", h.Width}, {"Height", h.Height}} {
		if d.v != 0 && (d.v < 200 || d.v > 8000) {
			return fmt.Errorf("%s: %s=%d outside [200, 8000] (0 picks the default)", n, d.name, d.v)
		}
	}
	return nil
}

// order returns the indices of v in increasing order of value.
func order(v []float64) []int {
	o := make([]int, len(v))
	for i := range o {
		o[i] = i
	}
	sort.SliceStable(o, func(a, b int) bool { return v[o[a]] < v[o[b]] })
	return o
}

// diagonalLabel is the key label of the diagonal.
func (h *Heatmap) diagonalLabel() string {
	if h.DiagonalLabel != "" || h.XLabel == "" || h.YLabel == "" {
		return h.DiagonalLabel
	}
	return h.XLabel + " = " + h.YLabel
}

// Size returns the image size: Width and Height, or by default room for
// cells of 44 to 72 pixels, the colour bar and the key.
func (h *Heatmap) Size() (int, int) {
	side := func(n int) int { return max(300, min(640, 72*n), 44*n) }
	w, ht := h.Width, h.Height
	if w == 0 {
		w = side(len(h.X)) + 230
	}
	if ht == 0 {
		ht = side(len(h.Y)) + 150
	}
	return w, ht
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
// significant digits of the largest magnitude, at most six decimals.
func (h *Heatmap) valueDecimals() int {
	maxAbs := 0.0
	for _, row := range h.Z {
		for _, v := range row {
			if finite(v) {
				maxAbs = math.Max(maxAbs, math.Abs(v))
			}
		}
	}
	if maxAbs == 0 {
		return 3
	}
	return min(6, max(0, 2-int(math.Floor(math.Log10(maxAbs)))))
}

// BestCell returns the {iy, ix} index of the best finite value of z (the
// lowest when lowerIsBetter, else the highest; ties keep the first in row
// order) and false when z holds no finite value.
func BestCell(z [][]float64, lowerIsBetter bool) ([2]int, bool) {
	best, ok := [2]int{}, false
	bv := 0.0
	for iy, row := range z {
		for ix, v := range row {
			if !finite(v) {
				continue
			}
			if !ok || (lowerIsBetter && v < bv) || (!lowerIsBetter && v > bv) {
				best, bv, ok = [2]int{iy, ix}, v, true
			}
		}
	}
	return best, ok
}

// NearBest returns a mask of the shape of z that is true where a finite
// value lies within rel (0.01 for 1%) of the best value, measured relative
// to |best|, on the worse side or equal.
func NearBest(z [][]float64, lowerIsBetter bool, rel float64) [][]bool {
	out := make([][]bool, len(z))
	b, ok := BestCell(z, lowerIsBetter)
	for iy, row := range z {
		out[iy] = make([]bool, len(row))
		if !ok {
			continue
		}
		bv := z[b[0]][b[1]]
		for ix, v := range row {
			out[iy][ix] = finite(v) && math.Abs(v-bv) <= rel*math.Abs(bv)
		}
	}
	return out
}

// WritePNG draws the heat map and writes it to path as a PNG, atomically.
func (h *Heatmap) WritePNG(path string) error { return WritePNG(path, h) }
