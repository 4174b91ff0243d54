package plot

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/vector"
)

// point is a position in pixel coordinates (y grows downwards).
type point struct{ X, Y float64 }

// fillRect fills r with col, replacing what was there.
func fillRect(dst *image.RGBA, r image.Rectangle, col color.Color) {
	draw.Draw(dst, r.Intersect(dst.Bounds()), image.NewUniform(col), image.Point{}, draw.Src)
}

// strokeRect draws the outline of r, t pixels thick, inside r.
func strokeRect(dst *image.RGBA, r image.Rectangle, t int, col color.Color) {
	fillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+t), col)
	fillRect(dst, image.Rect(r.Min.X, r.Max.Y-t, r.Max.X, r.Max.Y), col)
	fillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+t, r.Max.Y), col)
	fillRect(dst, image.Rect(r.Max.X-t, r.Min.Y, r.Max.X, r.Max.Y), col)
}

// canvas accumulates anti-aliased polygons and paints them in one colour.
// Polygons are normalised to one orientation so that overlapping pieces of
// a stroke (segments and joins) merge instead of cancelling.
type canvas struct {
	polys [][]point
}

// polygon adds a closed polygon.
func (c *canvas) polygon(pts []point) {
	if len(pts) < 3 {
		return
	}
	area := 0.0
	for i := range pts {
		j := (i + 1) % len(pts)
		area += pts[i].X*pts[j].Y - pts[j].X*pts[i].Y
	}
	p := append([]point(nil), pts...)
	if area < 0 {
		for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
	}
	c.polys = append(c.polys, p)
}

// disc adds a filled circle approximated by a 24-gon.
func (c *canvas) disc(ctr point, r float64) {
	const n = 24
	pts := make([]point, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / n
		pts[i] = point{ctr.X + r*math.Cos(a), ctr.Y + r*math.Sin(a)}
	}
	c.polygon(pts)
}

// segment adds a straight stroke of width w from a to b with butt ends.
func (c *canvas) segment(a, b point, w float64) {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*w/2, dx/l*w/2
	c.polygon([]point{
		{a.X + nx, a.Y + ny}, {b.X + nx, b.Y + ny},
		{b.X - nx, b.Y - ny}, {a.X - nx, a.Y - ny},
	})
}

// polyline adds a stroke of width w through pts with round joins.
func (c *canvas) polyline(pts []point, w float64) {
	for i := 1; i < len(pts); i++ {
		c.segment(pts[i-1], pts[i], w)
		if i+1 < len(pts) {
			c.disc(pts[i], w/2)
		}
	}
}

// paint rasterises the accumulated polygons onto dst in col, restricted to
// clip, and empties the canvas.
func (c *canvas) paint(dst *image.RGBA, clip image.Rectangle, col color.Color) {
	defer func() { c.polys = nil }()
	if len(c.polys) == 0 {
		return
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range c.polys {
		for _, q := range p {
			minX, maxX = math.Min(minX, q.X), math.Max(maxX, q.X)
			minY, maxY = math.Min(minY, q.Y), math.Max(maxY, q.Y)
		}
	}
	box := image.Rect(int(math.Floor(minX))-1, int(math.Floor(minY))-1,
		int(math.Ceil(maxX))+1, int(math.Ceil(maxY))+1)
	box = box.Intersect(clip).Intersect(dst.Bounds())
	if box.Empty() {
		return
	}
	z := vector.NewRasterizer(box.Dx(), box.Dy())
	z.DrawOp = draw.Over
	ox, oy := float64(box.Min.X), float64(box.Min.Y)
	for _, p := range c.polys {
		z.MoveTo(float32(p[0].X-ox), float32(p[0].Y-oy))
		for _, q := range p[1:] {
			z.LineTo(float32(q.X-ox), float32(q.Y-oy))
		}
		z.ClosePath()
	}
	z.Draw(dst, box, image.NewUniform(col), image.Point{})
}

// dashes splits the polyline pts into dash pieces of length on separated by
// gaps of length off, continuing the pattern across vertices.
func dashes(pts []point, on, off float64) [][]point {
	var out [][]point
	var cur []point
	drawing, left := true, on
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		l := math.Hypot(b.X-a.X, b.Y-a.Y)
		pos := 0.0
		for pos < l {
			step := math.Min(left, l-pos)
			p0 := lerpPoint(a, b, pos/l)
			p1 := lerpPoint(a, b, (pos+step)/l)
			if drawing {
				if len(cur) == 0 {
					cur = append(cur, p0)
				}
				cur = append(cur, p1)
			}
			pos += step
			left -= step
			if left <= 1e-9 {
				if drawing && len(cur) > 1 {
					out = append(out, cur)
				}
				cur = nil
				drawing = !drawing
				if drawing {
					left = on
				} else {
					left = off
				}
			}
		}
	}
	if drawing && len(cur) > 1 {
		out = append(out, cur)
	}
	return out
}

func lerpPoint(a, b point, t float64) point {
	return point{a.X + (b.X-a.X)*t, a.Y + (b.Y-a.Y)*t}
}

// clipSegment clips the segment a-b to the rectangle [x0,x1]x[y0,y1]
// (Liang-Barsky) and reports whether any part remains.
func clipSegment(a, b point, x0, y0, x1, y1 float64) (point, point, bool) {
	t0, t1 := 0.0, 1.0
	dx, dy := b.X-a.X, b.Y-a.Y
	for _, e := range [4][2]float64{
		{-dx, a.X - x0}, {dx, x1 - a.X}, {-dy, a.Y - y0}, {dy, y1 - a.Y},
	} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return a, b, false
			}
			continue
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return a, b, false
			}
			t0 = math.Max(t0, r)
		} else {
			if r < t0 {
				return a, b, false
			}
			t1 = math.Min(t1, r)
		}
	}
	return lerpPoint(a, b, t0), lerpPoint(a, b, t1), true
}
