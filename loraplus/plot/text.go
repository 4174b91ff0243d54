package plot

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Metrics of basicfont.Face7x13, the only face used.
const (
	glyphAdvance = 7  // horizontal advance per character, in pixels
	lineHeight   = 13 // ascent + descent, in pixels
	glyphAscent  = 11 // baseline offset from the top of a line, in pixels
)

// hAlign is the horizontal anchoring of a text run relative to its x.
type hAlign int

const (
	alignLeft hAlign = iota
	alignCenter
	alignRight
)

// greekNames spells out letters that the ASCII bitmap face cannot draw.
var greekNames = strings.NewReplacer(
	"α", "alpha", "β", "beta", "γ", "gamma", "δ", "delta", "ε", "eps",
	"η", "eta", "θ", "theta", "λ", "lambda", "μ", "mu", "ρ", "rho",
	"σ", "sigma", "τ", "tau", "ω", "omega", "Δ", "Delta", "−", "-",
	"–", "-", "—", "-", "×", "x", "·", ".", "≤", "<=", "≥", ">=", "±", "+/-",
)

// cleanText maps s onto the printable ASCII range of the face: known Greek
// letters and symbols are spelled out, other runes become '?'.
func cleanText(s string) string {
	s = greekNames.Replace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// textWidth is the advance width of s in pixels.
func textWidth(s string) int {
	return len(cleanText(s)) * glyphAdvance
}

// textMask renders s into an alpha mask of size textWidth(s) x lineHeight
// with the baseline at glyphAscent.
func textMask(s string) *image.Alpha {
	s = cleanText(s)
	m := image.NewAlpha(image.Rect(0, 0, len(s)*glyphAdvance, lineHeight))
	d := font.Drawer{
		Dst:  m,
		Src:  image.Opaque,
		Face: basicfont.Face7x13,
		Dot:  fixed.P(0, glyphAscent),
	}
	d.DrawString(s)
	return m
}

// drawText draws s in col with its line box vertically centred on y and
// anchored horizontally at x according to align.
func drawText(dst *image.RGBA, s string, x, y int, align hAlign, col color.Color) {
	if s == "" {
		return
	}
	m := textMask(s)
	w := m.Bounds().Dx()
	switch align {
	case alignCenter:
		x -= w / 2
	case alignRight:
		x -= w
	}
	top := y - lineHeight/2
	r := image.Rect(x, top, x+w, top+lineHeight)
	draw.DrawMask(dst, r, image.NewUniform(col), image.Point{}, m, image.Point{}, draw.Over)
}

// drawBoldText draws s like drawText and again one pixel to the right, a
// faux bold for titles.
func drawBoldText(dst *image.RGBA, s string, x, y int, align hAlign, col color.Color) {
	drawText(dst, s, x, y, align, col)
	drawText(dst, s, x+1, y, align, col)
}

// drawTextVertical draws s rotated 90 degrees counter-clockwise (reading
// bottom to top), centred on (cx, cy).
func drawTextVertical(dst *image.RGBA, s string, cx, cy int, col color.Color) {
	if s == "" {
		return
	}
	m := textMask(s)
	w := m.Bounds().Dx()
	rot := image.NewAlpha(image.Rect(0, 0, lineHeight, w))
	for ty := 0; ty < lineHeight; ty++ {
		for tx := 0; tx < w; tx++ {
			rot.SetAlpha(ty, w-1-tx, m.AlphaAt(tx, ty))
		}
	}
	left := cx - lineHeight/2
	top := cy - w/2
	r := image.Rect(left, top, left+lineHeight, top+w)
	draw.DrawMask(dst, r, image.NewUniform(col), image.Point{}, rot, image.Point{}, draw.Over)
}
