package plot

import (
	"fmt"
	"image"
	"math"
)

// maxGridSide bounds the number of rows and columns of a heatmap.
const maxGridSide = 200

// Heatmap is a grid of values over two axes, typically a learning-rate sweep
// with lr_A on X and lr_B on Y (paper Figures 2-4). Row 0 of Z (Y[0]) is
// drawn at the bottom and column 0 (X[0]) at the left, so increasing axis
// values grow upwards and to the right.
type Heatmap struct {
	// Title is drawn above the grid.
	Title string
	// XLabel and YLabel name the axes.
	XLabel, YLabel string
	// X and Y hold the axis values, one per column and per row.
	X, Y []float64
	// Z holds the cell values, shape [len(Y)][len(X)]: Z[iy][ix]. NaN and
	// ±Inf mark diverged runs and are drawn grey.
	Z [][]float64
	// LowerIsBetter reverses the colormap so that the best values (losses)
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
	// Diagonal draws the dashed X == Y line. It passes through the centres
	// of cells whose X and Y values are equal; elsewhere positions are
	// interpolated between cell centres on the (log) value scale.
	Diagonal bool
	// LogAxes declares X and Y log-spaced: tick labels are printed as 1e-3,
	// 3e-4 and the diagonal is interpolated in log10 space. Axis values
	// must then be positive.
	LogAxes bool
	// ColorbarLabel names the quantity shown by the colour (loss, accuracy).
	ColorbarLabel string
	// ZRange, when non-nil, fixes the {min, max} value range of the colour
	// scale, so that several panels share one scale; by default the range
	// of the finite values of Z is used.
	ZRange *[2]float64
	// CellSize is the side of a cell in pixels; 0 picks one from the grid
	// size (between 44 and 96 pixels).
	CellSize int
	// HideValues suppresses the numbers printed inside the cells.
	HideValues bool
}

// name identifies the heatmap in error messages.
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
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: %s[%d]=%g is not finite", n, ax.name, i, v)
			}
			if h.LogAxes && v <= 0 {
				return fmt.Errorf("%s: %s[%d]=%g is not positive, as LogAxes requires", n, ax.name, i, v)
			}
		}
		if h.Diagonal {
			if i := nonMonotonicAt(ax.v); i >= 0 {
				return fmt.Errorf("%s: %s is not strictly monotonic at index %d (%g after %g), as Diagonal requires",
					n, ax.name, i, ax.v[i], ax.v[i-1])
			}
		}
	}
	if r := h.ZRange; r != nil && (!finite(r[0]) || !finite(r[1]) || r[0] >= r[1]) {
		return fmt.Errorf("%s: ZRange={%g, %g} must be finite with min < max", n, r[0], r[1])
	}
	if h.CellSize < 0 || h.CellSize > 400 {
		return fmt.Errorf("%s: CellSize=%d outside [0, 400]", n, h.CellSize)
	}
	return nil
}

// nonMonotonicAt returns the first index breaking strict monotonicity of v
// (in the direction set by its first two values), or -1.
func nonMonotonicAt(v []float64) int {
	if len(v) < 2 {
		return -1
	}
	up := v[1] > v[0]
	for i := 1; i < len(v); i++ {
		if (up && !(v[i] > v[i-1])) || (!up && !(v[i] < v[i-1])) {
			return i
		}
	}
	return -1
}

// Render draws the heatmap and returns the image.
func (h *Heatmap) Render() (*image.RGBA, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	l := h.layout()
	return h.draw(l), nil
}

// WritePNG renders the heatmap and writes it to path as a PNG, atomically.
func (h *Heatmap) WritePNG(path string) error {
	img, err := h.Render()
	if err != nil {
		return err
	}
	return WritePNG(path, img)
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

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
