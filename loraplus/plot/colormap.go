package plot

import (
	"image/color"
	"math"
)

// nanColor is the fill of heatmap cells whose value is NaN or infinite
// (diverged runs).
var nanColor = color.RGBA{0xC4, 0xC4, 0xC4, 0xFF}

// Viridis maps t in [0, 1] to the viridis colormap by linear interpolation
// between the 256 entries of its table; t = 0 is dark purple, t = 1 yellow.
// Values outside [0, 1] are clamped and NaN gives the grey used for diverged
// heatmap cells.
func Viridis(t float64) color.RGBA {
	if math.IsNaN(t) {
		return nanColor
	}
	t = math.Max(0, math.Min(1, t))
	pos := t * float64(len(viridisTable)-1)
	i := int(pos)
	if i >= len(viridisTable)-1 {
		i = len(viridisTable) - 2
	}
	f := pos - float64(i)
	a, b := viridisTable[i], viridisTable[i+1]
	ch := func(k int) uint8 {
		v := (a[k]*(1-f) + b[k]*f) * 255
		return uint8(math.Round(math.Max(0, math.Min(255, v))))
	}
	return color.RGBA{ch(0), ch(1), ch(2), 0xFF}
}

// luminance returns the relative luminance of c in [0, 1] (Rec. 709 weights
// on the sRGB channels), used to pick black or white text over a fill.
func luminance(c color.RGBA) float64 {
	return (0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)) / 255
}

// contrastText returns a near-black colour over light fills and white over
// dark ones.
func contrastText(fill color.RGBA) color.RGBA {
	if luminance(fill) > 0.45 {
		return color.RGBA{0x14, 0x14, 0x14, 0xFF}
	}
	return color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
}
