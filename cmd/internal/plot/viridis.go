package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// nanColor is the fill of heat-map cells whose value is NaN or infinite
// (diverged runs, drawn as missing).
var nanColor = color.RGBA{0xC4, 0xC4, 0xC4, 0xFF}

// Viridis maps t in [0, 1] to the viridis colour map by linear
// interpolation between the 256 entries of its table; t = 0 is dark
// purple, t = 1 yellow. Values outside [0, 1] are clamped and NaN gives the
// grey used for diverged heat-map cells.
func Viridis(t float64) color.RGBA {
	if math.IsNaN(t) {
		return nanColor
	}
	t = math.Max(0, math.Min(1, t))
	pos := t * float64(len(viridisTable)-1)
	i := min(int(pos), len(viridisTable)-2)
	f := pos - float64(i)
	a, b := viridisTable[i], viridisTable[i+1]
	ch := func(k int) uint8 {
		v := (a[k]*(1-f) + b[k]*f) * 255
		return uint8(math.Round(math.Max(0, math.Min(255, v))))
	}
	return color.RGBA{ch(0), ch(1), ch(2), 0xFF}
}

// ViridisMap is the viridis colour map as a gonum palette.ColorMap over the
// value range [Min, Max]. With Reverse the bright end maps to Min, as for
// losses, where low values are the good ones.
type ViridisMap struct {
	min, max, alpha float64
	// Reverse swaps the ends of the map.
	Reverse bool
}

var _ palette.ColorMap = (*ViridisMap)(nil)

// NewViridisMap returns the viridis map over [lo, hi], opaque.
func NewViridisMap(lo, hi float64, reverse bool) *ViridisMap {
	return &ViridisMap{min: lo, max: hi, alpha: 1, Reverse: reverse}
}

// At returns the colour of v; values outside [Min, Max] are an error, as
// palette.ColorMap requires.
func (m *ViridisMap) At(v float64) (color.Color, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	switch {
	case math.IsNaN(v):
		return nanColor, nil
	case v < m.min:
		return nil, palette.ErrUnderflow
	case v > m.max:
		return nil, palette.ErrOverflow
	}
	t := (v - m.min) / (m.max - m.min)
	if m.Reverse {
		t = 1 - t
	}
	c := Viridis(t)
	if m.alpha < 1 { // premultiplied alpha
		a := math.Max(0, m.alpha)
		return color.RGBA{uint8(float64(c.R) * a), uint8(float64(c.G) * a), uint8(float64(c.B) * a), uint8(255 * a)}, nil
	}
	return c, nil
}

func (m *ViridisMap) check() error {
	if !(m.min < m.max) {
		return fmt.Errorf("plot: viridis map range [%g, %g] is empty", m.min, m.max)
	}
	return nil
}

// Max returns the value mapped to the last colour.
func (m *ViridisMap) Max() float64 { return m.max }

// SetMax sets the value mapped to the last colour.
func (m *ViridisMap) SetMax(v float64) { m.max = v }

// Min returns the value mapped to the first colour.
func (m *ViridisMap) Min() float64 { return m.min }

// SetMin sets the value mapped to the first colour.
func (m *ViridisMap) SetMin(v float64) { m.min = v }

// Alpha returns the opacity of the colours.
func (m *ViridisMap) Alpha() float64 { return m.alpha }

// SetAlpha sets the opacity of the colours, in [0, 1].
func (m *ViridisMap) SetAlpha(a float64) { m.alpha = a }

// Palette returns n colours evenly spaced over the map (at least two).
func (m *ViridisMap) Palette(n int) palette.Palette {
	n = max(n, 2)
	cols := make([]color.Color, n)
	for i := range cols {
		t := float64(i) / float64(n-1)
		if m.Reverse {
			t = 1 - t
		}
		cols[i] = Viridis(t)
	}
	return colors(cols)
}

// colors is a fixed palette.Palette.
type colors []color.Color

// Colors returns the palette's colours.
func (c colors) Colors() []color.Color { return c }

// luminance returns the relative luminance of c in [0, 1] (Rec. 709 weights
// on the sRGB channels), used to pick black or white text over a fill.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xFFFF
}

// contrastText returns a near-black colour over light fills and white over
// dark ones.
func contrastText(fill color.Color) color.Color {
	if luminance(fill) > 0.45 {
		return color.RGBA{0x14, 0x14, 0x14, 0xFF}
	}
	return color.White
}
