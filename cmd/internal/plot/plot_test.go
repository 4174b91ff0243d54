package plot

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeatmapValidate(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		edit func(h *Heatmap)
		want string
	}{
		{"ok", func(*Heatmap) {}, ""},
		{"empty axis", func(h *Heatmap) { h.X = nil }, "empty axis"},
		{"rows", func(h *Heatmap) { h.Z = h.Z[:1] }, "Z has 1 rows but len(Y)=2"},
		{"columns", func(h *Heatmap) { h.Z[1] = h.Z[1][:2] }, "Z[1] has 2 columns but len(X)=3"},
		{"log axis zero", func(h *Heatmap) { h.X[0] = 0 }, "X[0]=0 is not positive, as a log axis requires"},
		{"log axis negative", func(h *Heatmap) { h.Y[1] = -1e-3 }, "Y[1]=-0.001 is not positive"},
		{"linear axis may be negative", func(h *Heatmap) { h.LogAxes, h.X[0] = false, -1 }, ""},
		{"axis NaN", func(h *Heatmap) { h.Y[0] = nan }, "Y[0]=NaN is not finite"},
		{"duplicate", func(h *Heatmap) { h.X[2] = h.X[0] }, "X[0] and X[2] are both 0.0001"},
		{"best outside", func(h *Heatmap) { h.Best = &[2]int{2, 0} }, "outside the 2x3 grid"},
		{"marks shape", func(h *Heatmap) { h.Marks = [][]bool{{true}} }, "Marks has 1 rows"},
		{"z range", func(h *Heatmap) { h.ZRange = &[2]float64{1, 1} }, "min < max"},
		{"width", func(h *Heatmap) { h.Width = 50 }, "Width=50 outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := grid3x2()
			tc.edit(h)
			_, err := Render(h)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// grid3x2 is a small accuracy sweep on log axes.
func grid3x2() *Heatmap {
	return &Heatmap{
		Title: "t", XLabel: "η_A", YLabel: "η_B", X: []float64{1e-4, 1e-3, 1e-2}, Y: []float64{1e-4, 1e-3},
		Z: [][]float64{{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}}, LogAxes: true, Diagonal: true, ColorbarLabel: "accuracy",
	}
}

func TestLineChartValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *LineChart)
		want string
	}{
		{"ok", func(*LineChart) {}, ""},
		{"no series", func(c *LineChart) { c.Series = nil }, "no series"},
		{"lengths", func(c *LineChart) { c.Series[0].Y = c.Series[0].Y[:1] }, "len(X)=3 but len(Y)=1"},
		{"log x zero", func(c *LineChart) { c.LogX = true }, `series 0 ("a"): X[0]=0 is not positive, as a log x axis requires`},
		{"log y negative", func(c *LineChart) { c.LogY, c.Series[1].Y[2] = true, -2 }, "Y[2]=-2 is not positive, as a log y axis requires"},
		{"log y NaN is a gap", func(c *LineChart) { c.LogY, c.Series[1].Y[2] = true, math.NaN() }, ""},
		{"no finite point", func(c *LineChart) {
			for _, s := range c.Series {
				for i := range s.Y {
					s.Y[i] = math.Inf(1)
				}
			}
		}, "no series has a finite point"},
		{"height", func(c *LineChart) { c.Height = 9000 }, "Height=9000 outside"},
		{"band", func(c *LineChart) {
			c.Series[0].Lo, c.Series[0].Hi = []float64{0.4, 0.5, math.NaN()}, []float64{0.6, 0.7, 0.8}
			c.HLines = []HLine{{Y: 0.65, Name: "target"}}
		}, ""},
		{"band length", func(c *LineChart) { c.Series[0].Lo, c.Series[0].Hi = []float64{0.4}, []float64{0.6, 0.7, 0.8} },
			"a band needs Lo and Hi as long as X (3), got 1 and 3"},
		{"band upside down", func(c *LineChart) {
			c.Series[1].Lo, c.Series[1].Hi = []float64{0.4, 0.9, 0.7}, []float64{0.6, 0.7, 0.8}
		},
			"band Lo[1]=0.9 above Hi[1]=0.7"},
		{"reference line NaN", func(c *LineChart) { c.HLines = []HLine{{Y: math.NaN(), Name: "x"}} }, `reference line "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &LineChart{Title: "acc", XLabel: "step", YLabel: "accuracy", Series: []Series{
				{Name: "a", X: []float64{0, 1, 2}, Y: []float64{0.5, 0.6, 0.7}},
				{Name: "b", X: []float64{0, 1, 2}, Y: []float64{0.5, 0.7, 0.8}},
			}}
			tc.edit(c)
			_, err := Render(c)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// decode reads the PNG at path.
func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

func TestWritePNGSizes(t *testing.T) {
	dir := t.TempDir()
	hm, chart := sampleHeatmap(8), sampleChart()
	chart.Width, chart.Height = 500, 300
	hw, hh := hm.Size()
	for _, tc := range []struct {
		name  string
		cols  int
		figs  []Figure
		wantW int
		wantH int
	}{
		{"heatmap", 1, []Figure{hm}, hw, hh},
		{"fixed size heatmap", 1, []Figure{&Heatmap{X: []float64{1, 2}, Y: []float64{1}, Z: [][]float64{{1, 2}}, Width: 400, Height: 300}}, 400, 300},
		{"chart", 1, []Figure{chart}, 500, 300},
		{"2x2 grid", 2, []Figure{hm, hm, hm, hm}, 2 * hw, 2 * hh},
		{"one row", 0, []Figure{hm, chart}, 2 * hw, hh},
		{"three in two columns", 2, []Figure{chart, chart, chart}, 1000, 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".png")
			require.NoError(t, WriteGridPNG(path, tc.cols, tc.figs...))
			b := decode(t, path).Bounds()
			assert.Equal(t, tc.wantW, b.Dx())
			assert.Equal(t, tc.wantH, b.Dy())
		})
	}
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, names, 6, "no temporary files are left behind")
}

func TestWritePNGErrors(t *testing.T) {
	dir := t.TempDir()
	assert.ErrorContains(t, WriteGridPNG(filepath.Join(dir, "a.png"), 1), "no figure")
	assert.ErrorContains(t, WritePNG(filepath.Join(dir, "missing", "a.png"), sampleChart()), "missing")
	bad := sampleHeatmap(4)
	bad.X[0] = -1
	assert.ErrorContains(t, WritePNG(filepath.Join(dir, "b.png"), bad), "not positive")
	assert.NoFileExists(t, filepath.Join(dir, "b.png"))
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, names)
}

// count returns the number of pixels of img of colour c.
func count(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}

func TestHeatmapNaNDrawnAsMissing(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bad       float64
		wantGreyM int // least grey pixels, in thousands
	}{
		{"finite", 0.3, 0},
		{"NaN", math.NaN(), 10},
		{"+Inf", math.Inf(1), 10},
		{"-Inf", math.Inf(-1), 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Heatmap{X: []float64{1, 2}, Y: []float64{1, 2}, Z: [][]float64{{0.1, 0.2}, {tc.bad, 0.4}},
				HideValues: true, Width: 500, Height: 500}
			img, err := Render(h)
			require.NoError(t, err)
			grey := count(img, nanColor)
			if tc.wantGreyM == 0 {
				assert.Less(t, grey, 100, "only stray anti-aliased pixels")
				return
			}
			// A cell is about a quarter of a 300x300 grid; the key's box is far smaller.
			assert.Greater(t, grey, tc.wantGreyM*1000)
			assert.Less(t, grey, 40000)
		})
	}
}

func TestHeatmapBestOutlineAndColours(t *testing.T) {
	h := grid3x2()
	img, err := Render(h)
	require.NoError(t, err)
	assert.Zero(t, count(img, bestColor), "no best cell, no red")
	assert.Positive(t, count(img, Viridis(1)), "the highest accuracy is the bright end")

	best, ok := BestCell(h.Z, false)
	require.True(t, ok)
	h.Best = &best
	img, err = Render(h)
	require.NoError(t, err)
	assert.Greater(t, count(img, bestColor), 500)

	h.Best, h.LowerIsBetter = nil, true
	img, err = Render(h)
	require.NoError(t, err)
	assert.Positive(t, count(img, Viridis(1)))
}

func TestBestCellAndNearBest(t *testing.T) {
	nan := math.NaN()
	z := [][]float64{{0.5, nan, 0.9}, {0.895, 0.2, math.Inf(1)}}
	b, ok := BestCell(z, false)
	assert.True(t, ok)
	assert.Equal(t, [2]int{0, 2}, b)
	b, ok = BestCell(z, true)
	assert.True(t, ok)
	assert.Equal(t, [2]int{1, 1}, b)
	_, ok = BestCell([][]float64{{nan}}, true)
	assert.False(t, ok)
	assert.Equal(t, [][]bool{{false, false, true}, {true, false, false}}, NearBest(z, false, 0.01))
}

func TestSubscriptRuns(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []run
	}{
		{"η_A", []run{{s: "η"}, {s: "A", sub: true}}},
		{"η_A = η_B", []run{{s: "η"}, {s: "A", sub: true}, {s: " = η"}, {s: "B", sub: true}}},
		{"f1_score", []run{{s: "f1_score"}}},
		{"lr_{max}!", []run{{s: "lr"}, {s: "max", sub: true}, {s: "!"}}},
		{"η_ x", []run{{s: "η_ x"}}},
		{"trailing_", []run{{s: "trailing_"}}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, runs(tc.in))
		})
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v          float64
		sci, plain string
	}{
		{1e-3, "1e-3", "1e-3"},
		{3.1e-4, "3.1e-4", "3.1e-4"},
		{0.31, "3.1e-1", "0.31"},
		{9.5, "9.5e0", "9.5"},
		{30, "3e1", "30"},
		{2.5e5, "2.5e5", "2.5e5"},
		{0, "0", "0"},
	} {
		assert.Equal(t, tc.sci, formatSci(tc.v), "formatSci(%g)", tc.v)
		assert.Equal(t, tc.plain, formatValue(tc.v), "formatValue(%g)", tc.v)
	}
	assert.Equal(t, "0.00", formatFixed(-0.0001, 2))
}

func TestViridis(t *testing.T) {
	assert.Equal(t, color.RGBA{0x44, 0x01, 0x54, 0xFF}, Viridis(0))
	assert.Equal(t, color.RGBA{0xFD, 0xE7, 0x25, 0xFF}, Viridis(1))
	assert.Equal(t, Viridis(1), Viridis(7), "clamped")
	assert.Equal(t, nanColor, Viridis(math.NaN()))
	m := NewViridisMap(0, 2, true)
	c, err := m.At(0)
	require.NoError(t, err)
	assert.Equal(t, Viridis(1), c, "reversed: the minimum is bright")
	_, err = m.At(3)
	assert.Error(t, err)
	assert.Len(t, m.Palette(5).Colors(), 5)
}

func TestLinearTicks(t *testing.T) {
	var labels []string
	for _, tk := range (linearTicks{7}).Ticks(0.33, 0.91) {
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"0.4", "0.5", "0.6", "0.7", "0.8", "0.9"}, labels)
	labels = nil
	for _, tk := range (linearTicks{5}).Ticks(-400, 10400) {
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"0", "2500", "5000", "7500", "10000"}, labels)
}
