package plot

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of the PNG files: one point of gonum's page
// coordinates is DPI/72 pixels.
const DPI = 96

// Figure is a figure that draws itself on a gonum canvas.
type Figure interface {
	// Size returns the figure's preferred image size in pixels.
	Size() (width, height int)
	// Draw checks the figure and draws it on c, filling c.
	Draw(c draw.Canvas) error
}

// px converts pixels to gonum page lengths at DPI.
func px(n float64) vg.Length { return vg.Length(n) * vg.Inch / DPI }

// Render draws f into an image of its preferred size.
func Render(f Figure) (image.Image, error) { return RenderGrid(1, f) }

// RenderGrid draws figs row by row in a grid of cols columns (cols <= 0
// puts all in one row), each in a tile the size of the largest figure.
func RenderGrid(cols int, figs ...Figure) (image.Image, error) {
	if len(figs) == 0 {
		return nil, errors.New("plot: no figure to draw")
	}
	if cols <= 0 || cols > len(figs) {
		cols = len(figs)
	}
	rows := (len(figs) + cols - 1) / cols
	tw, th := 0, 0
	for i, f := range figs {
		if f == nil {
			return nil, fmt.Errorf("plot: figure %d is nil", i)
		}
		w, h := f.Size()
		tw, th = max(tw, w), max(th, h)
	}
	if tw*cols > 20000 || th*rows > 20000 {
		return nil, fmt.Errorf("plot: image of %dx%d pixels is too large", tw*cols, th*rows)
	}
	img := vgimg.NewWith(vgimg.UseWH(px(float64(tw*cols)), px(float64(th*rows))), vgimg.UseDPI(DPI),
		vgimg.UseBackgroundColor(white))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols}
	for i, f := range figs {
		if err := f.Draw(tiles.At(dc, i%cols, i/cols)); err != nil {
			return nil, err
		}
	}
	return img.Image(), nil
}

// WritePNG renders f at its preferred size and writes it to path.
func WritePNG(path string, f Figure) error { return WriteGridPNG(path, 1, f) }

// WriteGridPNG renders figs as RenderGrid does and writes them to path as
// one PNG, atomically.
func WriteGridPNG(path string, cols int, figs ...Figure) error {
	img, err := RenderGrid(cols, figs...)
	if err != nil {
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	return writeImage(path, img)
}

// writeImage encodes img as a PNG at path atomically: it writes a temporary
// file in the same directory, syncs it and renames it over path, so that
// readers never see a partial figure. The temporary file is removed when
// any step fails.
func writeImage(path string, img image.Image) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriter(f)
	if err = png.Encode(w, img); err != nil {
		return fmt.Errorf("plot: encode %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("plot: chmod %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("plot: sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("plot: close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("plot: rename %s to %s: %w", tmp, path, err)
	}
	return nil
}

// newPlot returns a plot with the package's style and text handler, title
// and axis labels set.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	p.Title.TextStyle.Font.Size = 13
	p.Title.TextStyle.Handler = textHandler
	p.Title.Padding = px(10)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = 12
		a.Label.TextStyle.Handler = textHandler
		a.Tick.Label.Font.Size = 10
		a.Color, a.Tick.Color = frameColor, frameColor
	}
	p.Legend.TextStyle.Font.Size = 10
	p.Legend.TextStyle.Handler = textHandler
	return p
}

// formatSci prints v in the compact scientific style of learning-rate axes:
// 1e-3, 3e-4, 2.5e-4 (mantissa rounded to two significant digits).
func formatSci(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	e := math.Floor(math.Log10(math.Abs(v)))
	m := math.Round(v/math.Pow(10, e)*10) / 10
	if math.Abs(m) >= 10 {
		m /= 10
		e++
	}
	return strconv.FormatFloat(m, 'f', -1, 64) + "e" + strconv.Itoa(int(e))
}

// formatValue prints an axis value with up to two significant digits:
// plainly between 0.01 and 10^4 (0.31, 3, 9.5, 30), else as formatSci.
func formatValue(v float64) string {
	a := math.Abs(v)
	if a == 0 {
		return "0"
	}
	if a < 1e-2 || a >= 1e4 {
		return formatSci(v)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
