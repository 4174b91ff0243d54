package plot

import (
	"image"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLineChartValidate(t *testing.T) {
	ok := Series{Name: "a", X: []float64{1, 2}, Y: []float64{3, 4}}
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		chart LineChart
		want  string
	}{
		{"valid", LineChart{Series: []Series{ok}}, ""},
		{"no series", LineChart{Title: "acc"}, `line chart "acc": no series`},
		{"length mismatch", LineChart{Series: []Series{ok, {Name: "b", X: []float64{1, 2, 3}, Y: []float64{1}}}},
			`series 1 ("b"): len(X)=3 but len(Y)=1`},
		{"log x zero", LineChart{LogX: true, Series: []Series{{Name: "s", X: []float64{0, 1}, Y: []float64{1, 2}}}},
			`series 0 ("s"): X[0]=0 is not positive, as LogX requires`},
		{"log y negative", LineChart{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{1, -2}}}},
			"Y[1]=-2 is not positive, as LogY requires"},
		{"log x nan allowed", LineChart{LogX: true, Series: []Series{{X: []float64{nan, 1}, Y: []float64{1, 2}}}}, ""},
		{"no finite point", LineChart{Series: []Series{{X: []float64{nan, 1}, Y: []float64{1, nan}}}},
			"no series has a finite point"},
		{"empty series", LineChart{Series: []Series{{Name: "empty"}}}, "no series has a finite point"},
		{"width", LineChart{Width: 50, Series: []Series{ok}}, "Width=50 outside [160, 8000]"},
		{"single point", LineChart{Series: []Series{{X: []float64{5}, Y: []float64{7}}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := tc.chart.Render()
			if tc.want == "" {
				require.NoError(t, err)
				require.NotNil(t, img)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLineChartSize(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want image.Point
	}{
		{0, 0, image.Pt(defaultWidth, defaultHeight)},
		{400, 300, image.Pt(400, 300)},
	} {
		c := sampleChart()
		c.Width, c.Height = tc.w, tc.h
		img, err := c.Render()
		require.NoError(t, err)
		assert.Equal(t, tc.want, img.Bounds().Size())
	}
}

func TestLineChartSeriesColours(t *testing.T) {
	c := sampleChart()
	c.Series = append(c.Series, Series{Name: "third", X: c.Series[0].X, Y: make([]float64, len(c.Series[0].X))})
	for i := range c.Series[2].Y {
		c.Series[2].Y[i] = 0.6
	}
	img, err := c.Render()
	require.NoError(t, err)
	l := c.layout()
	for si := range c.Series {
		col := seriesColor(si)
		assert.Greater(t, countColour(img, l.plot, col), 200, "series %d drawn in %v", si, col)
		for sj := 0; sj < si; sj++ {
			assert.NotEqual(t, seriesColor(sj), col, "series %d and %d share a colour", sj, si)
		}
	}
	// The flat third series lies on its row of pixels.
	y := int(l.px(0, 0.6).Y)
	mid := image.Rect(l.plot.Min.X+20, y-1, l.plot.Max.X-20, y+2)
	assert.Greater(t, countColour(img, mid, seriesColor(2)), l.plot.Dx()/2)
}

func TestLineChartLegend(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  bool
	}{
		{"named", []string{"LoRA", "LoRA+"}, true},
		{"unnamed", []string{"", ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sampleChart()
			for i := range c.Series {
				c.Series[i].Name = tc.names[i]
			}
			img, err := c.Render()
			require.NoError(t, err)
			l := c.layout()
			// Legend text is drawn in the ink colour inside the plot area.
			ink := countColour(img, l.plot, inkColor)
			if tc.want {
				assert.Greater(t, ink, 50)
			} else {
				assert.Zero(t, ink)
			}
		})
	}
}

func TestLineChartGapAtNaN(t *testing.T) {
	c := &LineChart{Series: []Series{{
		X: []float64{0, 1, 2, 3, 4},
		Y: []float64{0, 1, math.NaN(), 3, 4},
	}}}
	img, err := c.Render()
	require.NoError(t, err)
	l := c.layout()
	col := seriesColor(0)
	x1, x3 := l.px(1, 1).X, l.px(3, 3).X
	gap := image.Rect(int(x1+markerRadius*1.3)+2, l.plot.Min.Y, int(x3-markerRadius*1.3)-2, l.plot.Max.Y)
	require.False(t, gap.Empty())
	assert.Zero(t, countColour(img, gap, col), "no line across the NaN point")
	before := image.Rect(l.plot.Min.X, l.plot.Min.Y, int(x1), l.plot.Max.Y)
	assert.Greater(t, countColour(img, before, col), 20)
}

func TestLineChartLogScale(t *testing.T) {
	c := &LineChart{LogX: true, Series: []Series{{X: []float64{10, 100, 1000}, Y: []float64{1, 2, 3}}}}
	_, err := c.Render()
	require.NoError(t, err)
	l := c.layout()
	a, b, d := l.px(10, 1), l.px(100, 2), l.px(1000, 3)
	assert.InDelta(t, b.X-a.X, d.X-b.X, 1e-9, "decades are equally spaced")
	assert.InDelta(t, b.Y-a.Y, d.Y-b.Y, 1e-9, "linear y")
	assert.Equal(t, []string{"10", "100", "1000"}, l.x.labels)
}

func TestAxisLabelsFit(t *testing.T) {
	for _, w := range []int{160, 300, 720, 2000} {
		c := &LineChart{Width: w, Series: []Series{{X: []float64{0, 123456}, Y: []float64{0, 1}}}}
		_, err := c.Render()
		require.NoError(t, err)
		l := c.layout()
		if len(l.x.major) > 2 {
			assert.True(t, l.x.labelsFit(l.plot.Dx()), "width %d: labels %v", w, l.x.labels)
		}
	}
}
