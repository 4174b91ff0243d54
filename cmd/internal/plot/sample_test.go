package plot

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// sampleSweep returns a synthetic accuracy sweep over log-spaced (lr_A,
// lr_B) grids of n values each, shaped like the LoRA+ finding: the best
// lr_B is about 16x the best lr_A, and large lr_B diverges.
func sampleSweep(n int) (lrA, lrB []float64, acc [][]float64) {
	grid := func(lo float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = lo * math.Pow(2, float64(i))
		}
		return v
	}
	lrA, lrB = grid(1.25e-5), grid(1.25e-5)
	acc = make([][]float64, n)
	for iy, b := range lrB {
		acc[iy] = make([]float64, n)
		for ix, a := range lrA {
			la, lb := math.Log10(a), math.Log10(b)
			v := 0.915 - 0.045*math.Pow(lb-math.Log10(1.6e-3), 2) - 0.03*math.Pow(la-math.Log10(1e-4), 2)
			v += 0.004 * math.Sin(float64(3*ix+7*iy))
			if b > 6e-3 && a > 2e-4 || b > 2e-2 {
				v = math.NaN()
			}
			acc[iy][ix] = v
		}
	}
	return lrA, lrB, acc
}

// sampleHeatmap is the heatmap used by the sample and pixel tests.
func sampleHeatmap(n int) *Heatmap {
	lrA, lrB, acc := sampleSweep(n)
	best, _ := BestCell(acc, false)
	return &Heatmap{
		Title:         "RoBERTa MNLI: test accuracy (LoRA+ sweep)",
		XLabel:        "η_A (learning rate of A)",
		YLabel:        "η_B (learning rate of B)",
		DiagonalLabel: "η_A = η_B",
		X:             lrA,
		Y:             lrB,
		Z:             acc,
		Marks:         NearBest(acc, false, 0.01),
		MarksLabel:    "within 1% of best",
		Best:          &best,
		Diagonal:      true,
		LogAxes:       true,
		ColorbarLabel: "accuracy",
	}
}

// sampleChart is the line chart used by the sample and pixel tests.
func sampleChart() *LineChart {
	steps := make([]float64, 41)
	lora, plus := make([]float64, 41), make([]float64, 41)
	for i := range steps {
		s := float64(i) * 250
		steps[i] = s
		lora[i] = 0.35 + 0.5*(1-math.Exp(-s/3500)) + 0.004*math.Sin(float64(i))
		plus[i] = 0.35 + 0.53*(1-math.Exp(-s/1600)) + 0.004*math.Cos(float64(i))
	}
	return &LineChart{
		Title:  "Llama MNLI: test accuracy over training",
		XLabel: "training step",
		YLabel: "accuracy",
		Series: []Series{
			{Name: "LoRA (η_B = η_A)", X: steps, Y: lora},
			{Name: "LoRA+ (η_B = 16 η_A)", X: steps, Y: plus},
		},
	}
}

// TestRenderSamples renders the sample figures; with PLOT_SAMPLE_DIR set
// they are also written there for visual inspection.
func TestRenderSamples(t *testing.T) {
	dir := os.Getenv("PLOT_SAMPLE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, tc := range []struct {
		name  string
		write func(path string) error
	}{
		{"heatmap_8x8.png", sampleHeatmap(8).WritePNG},
		{"heatmap_16x16.png", sampleHeatmap(16).WritePNG},
		{"linechart.png", sampleChart().WritePNG},
		{"heatmap_offgrid.png", sampleOffGrid().WritePNG},
		{"linechart_logx.png", sampleLogChart().WritePNG},
		{"combined.png", func(p string) error {
			loss := sampleHeatmap(8)
			loss.Title, loss.ColorbarLabel, loss.LowerIsBetter = "train loss", "loss", true
			for _, row := range loss.Z {
				for i, v := range row {
					row[i] = 1.6 - v*1.5
				}
			}
			best, _ := BestCell(loss.Z, true)
			loss.Best, loss.Marks = &best, NearBest(loss.Z, true, 0.01)
			return WriteGridPNG(p, 2, loss, sampleHeatmap(8))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.write(filepath.Join(dir, tc.name)))
		})
	}
}

// sampleOffGrid is a loss heatmap whose axes share no value: lr_A spaced
// by sqrt(10), lr_B by 4.
func sampleOffGrid() *Heatmap {
	xs := []float64{1e-5, 3.16e-5, 1e-4, 3.16e-4, 1e-3, 3.16e-3}
	ys := []float64{2e-5, 8e-5, 3.2e-4, 1.28e-3, 5.12e-3}
	z := make([][]float64, len(ys))
	for iy, b := range ys {
		z[iy] = make([]float64, len(xs))
		for ix, a := range xs {
			la, lb := math.Log10(a), math.Log10(b)
			z[iy][ix] = 0.35 + 0.08*math.Pow(lb+2.9, 2) + 0.05*math.Pow(la+4, 2)
			if a*b > 1e-6 {
				z[iy][ix] = math.NaN()
			}
		}
	}
	best, _ := BestCell(z, true)
	return &Heatmap{
		Title: "GPT-2 train loss", XLabel: "η_A", YLabel: "η_B",
		X: xs, Y: ys, Z: z, LowerIsBetter: true, Best: &best,
		Marks: NearBest(z, true, 0.05), MarksLabel: "within 5% of best",
		Diagonal: true, LogAxes: true, ColorbarLabel: "train loss",
	}
}

// sampleLogChart is a loss chart on a log step axis with a diverged gap
// and few enough points for markers.
func sampleLogChart() *LineChart {
	var xs []float64
	for s := 10.0; s <= 20000; s *= 1.6 {
		xs = append(xs, s)
	}
	mk := func(scale, off float64) []float64 {
		y := make([]float64, len(xs))
		for i, s := range xs {
			y[i] = off + 2.2*math.Exp(-s/scale)
		}
		return y
	}
	third := mk(900, 0.5)
	third[6] = math.NaN()
	return &LineChart{
		Title: "train loss", XLabel: "step", YLabel: "loss", LogX: true,
		Series: []Series{
			{Name: "LoRA", X: xs, Y: mk(2500, 0.45)},
			{Name: "LoRA+ (ratio 16)", X: xs, Y: mk(700, 0.4)},
			{Name: "LoRA+ (ratio 64)", X: xs, Y: third},
		},
	}
}
