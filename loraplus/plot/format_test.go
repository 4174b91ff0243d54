package plot

import (
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFormatSci(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1e-3, "1e-3"},
		{3e-4, "3e-4"},
		{2.5e-4, "2.5e-4"},
		{1.25e-5, "1.3e-5"},
		{9.99e-4, "1e-3"},
		{0.1, "1e-1"},
		{1, "1e0"},
		{2e5, "2e5"},
		{-3e-4, "-3e-4"},
		{0, "0"},
	} {
		assert.Equal(t, tc.want, formatSci(tc.v), "formatSci(%g)", tc.v)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		sci  bool
		want string
	}{
		{0.5, false, "0.5"},
		{0.125, false, "0.125"},
		{16, false, "16"},
		{1000, false, "1000"},
		{2e5, false, "2e5"},
		{1e-3, false, "1e-3"},
		{16, true, "1.6e1"},
		{0, false, "0"},
	} {
		assert.Equal(t, tc.want, formatValue(tc.v, tc.sci), "formatValue(%g, %v)", tc.v, tc.sci)
	}
}

func TestFormatFixedNoNegativeZero(t *testing.T) {
	assert.Equal(t, "0.00", formatFixed(-0.001, 2))
	assert.Equal(t, "-0.01", formatFixed(-0.01, 2))
}

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		target int
		want   []float64
		step   float64
	}{
		{0, 1, 5, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 0.2},
		{0.33, 0.92, 5, []float64{0.4, 0.6, 0.8}, 0.2},
		{0.33, 0.92, 8, []float64{0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, 0.1},
		{0, 10000, 5, []float64{0, 2000, 4000, 6000, 8000, 10000}, 2000},
		{-1, 1, 4, []float64{-1, -0.5, 0, 0.5, 1}, 0.5},
		{0, 10, 4, []float64{0, 2.5, 5, 7.5, 10}, 2.5},
	} {
		got, step := linearTicks(tc.lo, tc.hi, tc.target)
		assert.InDeltaSlice(t, tc.want, got, 1e-12, "ticks of [%g, %g]", tc.lo, tc.hi)
		assert.InDelta(t, tc.step, step, 1e-12)
	}
}

func TestLogTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi       float64
		major, minor []float64
	}{
		{3, 2000, []float64{10, 100, 1000},
			[]float64{3, 4, 5, 6, 7, 8, 9, 20, 30, 40, 50, 60, 70, 80, 90, 200, 300, 400, 500, 600, 700, 800, 900, 2000}},
		{1e-5, 5e-4, []float64{1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4},
			[]float64{3e-5, 4e-5, 6e-5, 7e-5, 8e-5, 9e-5, 3e-4, 4e-4}},
		{8, 300, []float64{10, 20, 50, 100, 200},
			[]float64{8, 9, 30, 40, 60, 70, 80, 90, 300}},
	} {
		major, minor := logTicks(tc.lo, tc.hi)
		assert.InDeltaSlice(t, tc.major, major, 1e-9*tc.hi, "major ticks of [%g, %g]", tc.lo, tc.hi)
		assert.InDeltaSlice(t, tc.minor, minor, 1e-9*tc.hi, "minor ticks of [%g, %g]", tc.lo, tc.hi)
	}
}

func TestStepDecimals(t *testing.T) {
	for step, want := range map[float64]int{1: 0, 2000: 0, 0.5: 1, 2.5: 1, 0.25: 2, 0.02: 2, 1e-4: 4} {
		assert.Equal(t, want, stepDecimals(step), "step %g", step)
	}
}

func TestViridis(t *testing.T) {
	for _, tc := range []struct {
		t    float64
		want color.RGBA
	}{
		{0, color.RGBA{68, 1, 84, 255}},
		{-1, color.RGBA{68, 1, 84, 255}},
		{1, color.RGBA{253, 231, 37, 255}},
		{2, color.RGBA{253, 231, 37, 255}},
		{128.0 / 255, color.RGBA{33, 145, 140, 255}},
		{math.NaN(), nanColor},
	} {
		assert.Equal(t, tc.want, Viridis(tc.t), "Viridis(%g)", tc.t)
	}
	// Perceptually uniform maps brighten monotonically.
	prev := -1.0
	for i := 0; i <= 100; i++ {
		l := luminance(Viridis(float64(i) / 100))
		assert.Greater(t, l, prev, "luminance rises at t=%g", float64(i)/100)
		prev = l
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"lr_A":        "lr_A",
		"η_B / η_A":   "eta_B / eta_A",
		"λ = 16":      "lambda = 16",
		"loss\tvalue": "loss?value",
		"ü":           "?",
	} {
		assert.Equal(t, want, cleanText(in))
		assert.Equal(t, len(want)*glyphAdvance, textWidth(in))
	}
}
