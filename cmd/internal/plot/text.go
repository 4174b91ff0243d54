package plot

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// subText is the package's text handler: gonum's plain text, plus
// subscripts. "_{...}" sets its contents as a subscript, and so does "_X"
// for a single character X right after a Greek letter, so that "η_A" is
// drawn as η with a subscript A while names such as "f1_score" stay as
// they are.
type subText struct{ text.Plain }

var _ text.Handler = subText{}

// textHandler is the handler of every text the package draws.
var textHandler = subText{text.Plain{Fonts: font.DefaultCache}}

// Subscript size and drop, relative to the font size.
const (
	subScale = 0.72
	subDrop  = 0.22
)

// run is a piece of a line set in one size.
type run struct {
	s   string
	sub bool
}

// runs splits a line into normal and subscript runs.
func runs(line string) []run {
	var out []run
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, run{s: cur.String()})
			cur.Reset()
		}
	}
	var prev rune
	for i := 0; i < len(line); {
		r, n := utf8.DecodeRuneInString(line[i:])
		if r == '_' {
			rest := line[i+1:]
			if strings.HasPrefix(rest, "{") {
				if end := strings.IndexByte(rest, '}'); end > 0 {
					flush()
					out = append(out, run{s: rest[1:end], sub: true})
					i += 1 + end + 1
					prev = '}'
					continue
				}
			}
			if next, m := utf8.DecodeRuneInString(rest); m > 0 && unicode.In(prev, unicode.Greek) && !unicode.IsSpace(next) {
				flush()
				out = append(out, run{s: rest[:m], sub: true})
				i += 1 + m
				prev = next
				continue
			}
		}
		cur.WriteString(line[i : i+n])
		prev = r
		i += n
	}
	flush()
	return out
}

// subFont is the font of subscripts of fnt.
func subFont(fnt font.Font) font.Font {
	fnt.Size = vg.Length(float64(fnt.Size) * subScale)
	return fnt
}

// width returns the width of a line set in fnt.
func (h subText) width(line string, fnt font.Font) vg.Length {
	w := vg.Length(0)
	for _, r := range runs(line) {
		f := fnt
		if r.sub {
			f = subFont(fnt)
		}
		face := h.Fonts.Lookup(f, f.Size)
		w += face.Width(r.s)
	}
	return w
}

// Box returns the width, height and depth of a line of text.
func (h subText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	_, height, depth = h.Plain.Box("", fnt)
	return h.width(txt, fnt), height, depth + vg.Length(subDrop)*fnt.Size
}

// Draw draws txt at pt in style sty, as text.Plain does, with subscripts.
func (h subText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if len(txt) == 0 {
		return
	}
	fnt := h.Fonts.Lookup(sty.Font, sty.Font.Size)
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin

	lines := h.Lines(txt)
	pt.Y += sty.Height(txt)*vg.Length(sty.YAlign) - fnt.Extents().Ascent
	sf := subFont(sty.Font)
	sub := h.Fonts.Lookup(sf, sf.Size)
	for i, line := range lines {
		x := pt.X + vg.Length(sty.XAlign)*h.width(line, sty.Font)
		y := pt.Y + vg.Length(len(lines)-i)*sty.Font.Size
		for _, r := range runs(line) {
			if r.sub {
				c.FillString(sub, vg.Point{X: x, Y: y - vg.Length(subDrop)*sty.Font.Size}, r.s)
				x += sub.Width(r.s)
				continue
			}
			c.FillString(fnt, vg.Point{X: x, Y: y}, r.s)
			x += fnt.Width(r.s)
		}
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}
