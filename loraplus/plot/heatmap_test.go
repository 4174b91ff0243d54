package plot

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// grid3x2 is a small valid heatmap: 2 rows (Y) x 3 columns (X).
func grid3x2() *Heatmap {
	return &Heatmap{
		Title:   "t",
		X:       []float64{1e-4, 1e-3, 1e-2},
		Y:       []float64{1e-4, 1e-3},
		Z:       [][]float64{{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}},
		LogAxes: true,
	}
}

func TestHeatmapValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(h *Heatmap)
		want   string
	}{
		{"valid", func(*Heatmap) {}, ""},
		{"empty X", func(h *Heatmap) { h.X = nil }, "empty axis: len(X)=0, len(Y)=2"},
		{"too few rows", func(h *Heatmap) { h.Z = h.Z[:1] }, "Z has 1 rows but len(Y)=2"},
		{"short row", func(h *Heatmap) { h.Z[1] = []float64{1, 2} }, "Z[1] has 2 columns but len(X)=3"},
		{"marks rows", func(h *Heatmap) { h.Marks = [][]bool{{true, false, false}} }, "Marks has 1 rows but len(Y)=2"},
		{"marks cols", func(h *Heatmap) { h.Marks = [][]bool{{true, false, false}, {true}} }, "Marks[1] has 1 columns but len(X)=3"},
		{"best row", func(h *Heatmap) { h.Best = &[2]int{2, 0} }, "Best={2, 0} ({iy, ix}) outside the 2x3 grid"},
		{"best col", func(h *Heatmap) { h.Best = &[2]int{0, -1} }, "Best={0, -1}"},
		{"log axis zero", func(h *Heatmap) { h.Y[1] = 0 }, "Y[1]=0 is not positive"},
		{"linear axis zero", func(h *Heatmap) { h.LogAxes = false; h.Y[1] = 0 }, ""},
		{"nan axis", func(h *Heatmap) { h.X[2] = math.NaN() }, "X[2]=NaN is not finite"},
		{"diagonal unsorted", func(h *Heatmap) { h.Diagonal = true; h.X[2] = 1e-4 }, "X is not strictly monotonic at index 2"},
		{"diagonal descending", func(h *Heatmap) { h.Diagonal = true; h.X = []float64{1e-2, 1e-3, 1e-4} }, ""},
		{"zrange", func(h *Heatmap) { h.ZRange = &[2]float64{1, 1} }, "ZRange={1, 1}"},
		{"cell size", func(h *Heatmap) { h.CellSize = -3 }, "CellSize=-3"},
		{"title named", func(h *Heatmap) { h.Title = "MNLI"; h.Z = nil }, `heatmap "MNLI": Z has 0 rows`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := grid3x2()
			tc.modify(h)
			img, err := h.Render()
			if tc.want == "" {
				require.NoError(t, err)
				require.NotNil(t, img)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Nil(t, img)
		})
	}
}

// rgbaAt returns the pixel of img at p.
func rgbaAt(img *image.RGBA, p image.Point) color.RGBA { return img.RGBAAt(p.X, p.Y) }

// centre returns the centre pixel of r.
func centre(r image.Rectangle) image.Point { return r.Min.Add(r.Max).Div(2) }

func TestHeatmapCellColours(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		z      [][]float64
		lower  bool
		hide   bool
		zrange *[2]float64
		want   [][]float64 // expected colormap position per cell; NaN = grey
	}{
		{"higher better", [][]float64{{0, 1, 2}, {3, 4, 5}}, false, true, nil,
			[][]float64{{0, 0.2, 0.4}, {0.6, 0.8, 1}}},
		{"lower better reversed", [][]float64{{0, 1, 2}, {3, 4, 5}}, true, true, nil,
			[][]float64{{1, 0.8, 0.6}, {0.4, 0.2, 0}}},
		{"nan and inf grey", [][]float64{{nan, 1, 2}, {3, math.Inf(1), 5}}, false, false, nil,
			[][]float64{{nan, 0, 0.25}, {0.5, nan, 1}}},
		{"fixed range clamps", [][]float64{{-1, 0.5, 2}, {0, 0.25, 1}}, false, false, &[2]float64{0, 1},
			[][]float64{{0, 0.5, 1}, {0, 0.25, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := grid3x2()
			h.Z, h.LowerIsBetter, h.HideValues, h.ZRange = tc.z, tc.lower, tc.hide, tc.zrange
			img, err := h.Render()
			require.NoError(t, err)
			l := h.layout()
			require.Equal(t, img.Bounds().Size(), l.size)
			for iy, row := range tc.want {
				for ix, w := range row {
					want := Viridis(w)
					r := l.cellRect(iy, ix)
					// Values are printed at the centre; sample above them.
					p := centre(r)
					if !tc.hide {
						p.Y = r.Min.Y + 6
					}
					assert.Equal(t, want, rgbaAt(img, p), "cell (%d, %d)", iy, ix)
				}
			}
		})
	}
}

func TestHeatmapRowsBottomUp(t *testing.T) {
	h := grid3x2()
	l := h.layout()
	assert.Greater(t, l.cellRect(0, 0).Min.Y, l.cellRect(1, 0).Min.Y, "row 0 must be below row 1")
	assert.Less(t, l.cellRect(0, 0).Min.X, l.cellRect(0, 1).Min.X, "column 0 must be left of column 1")
	assert.True(t, l.cellRect(0, 0).In(l.plot))
	assert.True(t, l.cellRect(1, 2).In(l.plot))
}

// countColour counts the pixels of img inside r equal to c.
func countColour(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

func TestHeatmapBestOutline(t *testing.T) {
	for _, tc := range []struct {
		name string
		best *[2]int
	}{
		{"none", nil},
		{"bottom left", &[2]int{0, 0}},
		{"top right", &[2]int{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := grid3x2()
			h.Best = tc.best
			img, err := h.Render()
			require.NoError(t, err)
			l := h.layout()
			if tc.best == nil {
				assert.Zero(t, countColour(img, img.Bounds(), bestColor))
				return
			}
			r := l.cellRect(tc.best[0], tc.best[1])
			for _, p := range []image.Point{r.Min, {r.Max.X - 1, r.Max.Y - 1}, {r.Min.X + 2, centre(r).Y}} {
				assert.Equal(t, bestColor, rgbaAt(img, p), "outline pixel %v", p)
			}
			assert.NotEqual(t, bestColor, rgbaAt(img, image.Pt(r.Min.X+6, r.Min.Y+6)), "inside stays filled")
			// The outline has 4*(side-3)*3 pixels; the key swatch adds a few.
			inPlot := countColour(img, l.plot, bestColor)
			assert.Equal(t, 4*(l.cell-3)*3, inPlot)
		})
	}
}

func TestHeatmapMarks(t *testing.T) {
	for _, tc := range []struct {
		name string
		hide bool
	}{{"with values", false}, {"without values", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := grid3x2()
			h.HideValues = tc.hide
			h.Marks = [][]bool{{false, true, false}, {false, false, false}}
			img, err := h.Render()
			require.NoError(t, err)
			l := h.layout()
			marked, plain := l.cellRect(0, 1), l.cellRect(0, 0)
			ink := contrastText(Viridis(l.norm(0.2, false)))
			if tc.hide {
				assert.Equal(t, ink, rgbaAt(img, centre(marked)), "centred cross")
				assert.Zero(t, countColour(img, plain.Inset(1), contrastText(Viridis(l.norm(0.1, false)))))
				return
			}
			// Corners exclude the white lines between cells.
			corner := image.Rect(marked.Max.X-16, marked.Min.Y+1, marked.Max.X-1, marked.Min.Y+16)
			assert.Greater(t, countColour(img, corner, ink), 5, "corner cross")
			plainCorner := image.Rect(plain.Max.X-16, plain.Min.Y+1, plain.Max.X-1, plain.Min.Y+16)
			assert.Zero(t, countColour(img, plainCorner, contrastText(Viridis(l.norm(0.1, false)))))
		})
	}
}

func TestHeatmapDiagonalPixels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		diagonal bool
	}{{"off", false}, {"on", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Heatmap{
				X: []float64{1e-4, 1e-3, 1e-2, 1e-1}, Y: []float64{1e-4, 1e-3, 1e-2, 1e-1},
				Z:       [][]float64{{1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}, {4, 5, 6, 7}},
				LogAxes: true, Diagonal: tc.diagonal, HideValues: true,
			}
			img, err := h.Render()
			require.NoError(t, err)
			l := h.layout()
			// Pixels that differ from their cell's fill, away from the
			// white lines between cells, belong to the diagonal.
			changed := 0
			for iy := range h.Y {
				for ix := range h.X {
					r := l.cellRect(iy, ix)
					fill := Viridis(l.norm(h.Z[iy][ix], false))
					for y := r.Min.Y + 1; y < r.Max.Y; y++ {
						for x := r.Min.X + 1; x < r.Max.X; x++ {
							if img.RGBAAt(x, y) == fill {
								continue
							}
							changed++
							dx := float64(x-l.plot.Min.X) + 0.5
							dy := float64(l.plot.Max.Y-y) - 0.5
							require.Less(t, math.Abs(dx-dy)/math.Sqrt2, 3.5, "pixel (%d, %d) off the diagonal", x, y)
						}
					}
				}
			}
			if !tc.diagonal {
				assert.Zero(t, changed)
				return
			}
			// Dashes cover about 9/15 of the line, 4.2 pixels wide.
			length := math.Sqrt2 * float64(l.plot.Dx())
			assert.Greater(t, float64(changed), 1.5*length, "dash pixels")
			assert.Positive(t, countColour(img, l.cellRect(1, 1).Inset(1), diagLight), "white dash core")
			assert.Positive(t, countColour(img, l.cellRect(1, 1).Inset(1), diagDark), "dark dash edge")
		})
	}
}

// distToPath is the distance from q to the polyline path.
func distToPath(q point, path []point) float64 {
	d := math.Inf(1)
	for i := 1; i < len(path); i++ {
		a, b := path[i-1], path[i]
		vx, vy := b.X-a.X, b.Y-a.Y
		t := 0.0
		if l2 := vx*vx + vy*vy; l2 > 0 {
			t = math.Max(0, math.Min(1, ((q.X-a.X)*vx+(q.Y-a.Y)*vy)/l2))
		}
		d = math.Min(d, math.Hypot(a.X+t*vx-q.X, a.Y+t*vy-q.Y))
	}
	return d
}

func TestDiagonalPath(t *testing.T) {
	plot := image.Rect(100, 50, 100+4*40, 50+3*40)
	cx := func(i float64) float64 { return 100 + (i+0.5)*40 }
	cy := func(i float64) float64 { return 50 + 3*40 - (i+0.5)*40 }
	for _, tc := range []struct {
		name   string
		xs, ys []float64
		log    bool
		on     []point // points the line must pass through
		off    []point // points it must miss by more than 5 pixels
	}{
		{
			name: "shared values pass through cell centres",
			xs:   []float64{1e-5, 1e-4, 1e-3, 1e-2}, ys: []float64{1e-4, 1e-3, 1e-2}, log: true,
			on:  []point{{cx(1), cy(0)}, {cx(2), cy(1)}, {cx(3), cy(2)}},
			off: []point{{cx(0), cy(0)}, {cx(1), cy(1)}},
		},
		{
			name: "interleaved values interpolate in log space",
			xs:   []float64{1e-4, 1e-3, 1e-2, 1e-1}, ys: []float64{1e-4, 1e-2, 1},
			log: true,
			// x = 1e-3 (column 1) sits halfway between rows 1e-4 and 1e-2.
			on: []point{{cx(0), cy(0)}, {cx(1), cy(0.5)}, {cx(2), cy(1)}, {cx(3), cy(1.5)}},
		},
		{
			name: "interleaved values interpolate linearly",
			xs:   []float64{1, 2, 3, 4}, ys: []float64{1, 3, 5},
			on: []point{{cx(0), cy(0)}, {cx(1), cy(0.5)}, {cx(2), cy(1)}, {cx(3), cy(1.5)}},
		},
		{
			name: "descending x axis",
			xs:   []float64{1e-1, 1e-2, 1e-3, 1e-4}, ys: []float64{1e-4, 1e-3, 1e-2}, log: true,
			on: []point{{cx(3), cy(0)}, {cx(2), cy(1)}, {cx(1), cy(2)}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := diagonalPath(tc.xs, tc.ys, tc.log, plot, 40)
			require.NotNil(t, path)
			for _, q := range path {
				assert.True(t, q.X >= 100-1e-9 && q.X <= 260+1e-9 && q.Y >= 50-1e-9 && q.Y <= 170+1e-9, "vertex %v clipped to grid", q)
			}
			for _, q := range tc.on {
				assert.Less(t, distToPath(q, path), 1e-6, "line passes through %v", q)
			}
			for _, q := range tc.off {
				assert.Greater(t, distToPath(q, path), 5.0, "line misses %v", q)
			}
		})
	}
	t.Run("disjoint ranges draw nothing", func(t *testing.T) {
		assert.Nil(t, diagonalPath([]float64{1e-6, 1e-5}, []float64{1, 10}, true, plot, 40))
	})
}

func TestHeatmapLabelsDoNotOverlap(t *testing.T) {
	for _, n := range []int{1, 2, 5, 8, 12, 16} {
		t.Run("", func(t *testing.T) {
			h := sampleHeatmap(n)
			l := h.layout()
			img, err := h.Render()
			require.NoError(t, err)
			check := func(labels []string, size func(string) int) {
				prev, prevIdx := "", -1
				shown := 0
				for i, s := range labels {
					if s == "" {
						continue
					}
					shown++
					if prevIdx >= 0 {
						gap := (i - prevIdx) * l.cell
						assert.GreaterOrEqual(t, gap, (size(s)+size(prev))/2+2, "labels %q and %q", prev, s)
					}
					prev, prevIdx = s, i
				}
				assert.GreaterOrEqual(t, shown, (len(labels)+1)/2, "at least every other label is shown")
			}
			check(l.xLabels, textWidth)
			check(l.yLabels, func(string) int { return lineHeight })
			// The outermost tick labels and the colorbar labels lie inside
			// the image.
			firstX := l.plot.Min.X + l.cell/2 - textWidth(l.xLabels[0])/2
			assert.GreaterOrEqual(t, firstX, 0)
			lastX := l.cbar.Max.X + tickLen + tickGap + maxWidth(l.cbLabels)
			assert.LessOrEqual(t, lastX, img.Bounds().Dx())
		})
	}
}

func TestHeatmapNaNKey(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name    string
		z       [][]float64
		wantKey bool
	}{
		{"finite", [][]float64{{1, 2, 3}, {4, 5, 6}}, false},
		{"one diverged", [][]float64{{1, nan, 3}, {4, 5, 6}}, true},
		{"all diverged", [][]float64{{nan, nan, nan}, {nan, nan, math.Inf(-1)}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := grid3x2()
			h.Z = tc.z
			img, err := h.Render()
			require.NoError(t, err)
			l := h.layout()
			below := image.Rect(0, l.plot.Max.Y+1, img.Bounds().Dx(), img.Bounds().Dy())
			swatch := countColour(img, below, nanColor)
			if tc.wantKey {
				assert.Equal(t, 14*13, swatch, "grey key swatch under the plot")
			} else {
				assert.Zero(t, countColour(img, img.Bounds(), nanColor))
			}
		})
	}
}

func TestBestCellAndNearBest(t *testing.T) {
	nan := math.NaN()
	z := [][]float64{{0.50, 0.80, nan}, {0.795, 0.70, 0.81}}
	for _, tc := range []struct {
		name  string
		lower bool
		best  [2]int
		near  [][]bool
	}{
		{"higher is better", false, [2]int{1, 2},
			[][]bool{{false, true, false}, {true, false, true}}},
		{"lower is better", true, [2]int{0, 0},
			[][]bool{{true, false, false}, {false, false, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := BestCell(z, tc.lower)
			require.True(t, ok)
			assert.Equal(t, tc.best, b)
			assert.Equal(t, tc.near, NearBest(z, tc.lower, 0.02))
		})
	}
	t.Run("no finite value", func(t *testing.T) {
		_, ok := BestCell([][]float64{{nan}}, false)
		assert.False(t, ok)
		assert.Equal(t, [][]bool{{false}}, NearBest([][]float64{{nan}}, false, 0.01))
	})
}

func TestHeatmapValueDecimals(t *testing.T) {
	for _, tc := range []struct {
		name string
		z    []float64
		maxW int
		want int
	}{
		{"accuracy fraction", []float64{0.9123, 0.5}, 38, 3},
		{"accuracy percent", []float64{85.23, 60}, 38, 1},
		{"loss above one", []float64{2.345, 0.4}, 38, 2},
		{"negative needs two digits", []float64{-0.412, 0.1}, 38, 2},
		{"tiny cells hide fractions", []float64{0.9123}, 14, -1},
		{"tiny cells keep percents", []float64{85.23}, 14, 0},
		{"all diverged", []float64{math.NaN()}, 38, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Heatmap{Z: [][]float64{tc.z}}
			assert.Equal(t, tc.want, h.valueDecimals(tc.maxW))
		})
	}
}
