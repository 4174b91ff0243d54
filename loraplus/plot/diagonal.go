package plot

import (
	"image"
	"math"
	"sort"
)

// axisMap converts between axis values and fractional cell indices (0 is
// the centre of the first cell) by piecewise-linear interpolation between
// cell centres in value space, or in log10 space for log axes, extending
// the end intervals linearly beyond the grid.
type axisMap struct {
	u   []float64 // transformed axis values, strictly monotonic
	log bool
}

func newAxisMap(vals []float64, log bool) axisMap {
	a := axisMap{u: make([]float64, len(vals)), log: log}
	for i, v := range vals {
		a.u[i] = a.fwd(v)
	}
	return a
}

func (a axisMap) fwd(v float64) float64 {
	if a.log {
		return math.Log10(v)
	}
	return v
}

func (a axisMap) inv(u float64) float64 {
	if a.log {
		return math.Pow(10, u)
	}
	return u
}

// index returns the fractional cell index of value v.
func (a axisMap) index(v float64) float64 {
	t := a.fwd(v)
	n := len(a.u)
	if n == 1 {
		return t - a.u[0]
	}
	sign := 1.0
	if a.u[1] < a.u[0] {
		sign = -1
	}
	at := func(i int) float64 { return sign * a.u[i] }
	t *= sign
	switch {
	case t <= at(0):
		return (t - at(0)) / (at(1) - at(0))
	case t >= at(n-1):
		return float64(n-1) + (t-at(n-1))/(at(n-1)-at(n-2))
	}
	i := sort.Search(n, func(i int) bool { return at(i) > t }) - 1
	return float64(i) + (t-at(i))/(at(i+1)-at(i))
}

// value returns the axis value at fractional cell index idx.
func (a axisMap) value(idx float64) float64 {
	n := len(a.u)
	if n == 1 {
		return a.inv(a.u[0] + idx)
	}
	var i int
	switch {
	case idx <= 0:
		i = 0
	case idx >= float64(n-1):
		i = n - 2
	default:
		i = int(math.Floor(idx))
		if i > n-2 {
			i = n - 2
		}
	}
	return a.inv(a.u[i] + (idx-float64(i))*(a.u[i+1]-a.u[i]))
}

// diagonalPath returns the X == Y line in pixel coordinates, clipped to the
// grid rectangle, or nil when it does not cross the grid. Its vertices
// include every axis value, so it passes exactly through the centres of
// cells whose X and Y values coincide.
func diagonalPath(xs, ys []float64, logAxes bool, plot image.Rectangle, cell int) []point {
	xm, ym := newAxisMap(xs, logAxes), newAxisMap(ys, logAxes)
	cand := append(append([]float64{}, xs...), ys...)
	cand = append(cand,
		xm.value(-0.5), xm.value(float64(len(xs))-0.5),
		ym.value(-0.5), ym.value(float64(len(ys))-0.5))
	var vs []float64
	for _, v := range cand {
		if finite(v) && (!logAxes || v > 0) {
			vs = append(vs, v)
		}
	}
	sort.Float64s(vs)
	c := float64(cell)
	var pts []point
	for i, v := range vs {
		if i > 0 && v == vs[i-1] {
			continue
		}
		pts = append(pts, point{
			X: float64(plot.Min.X) + (xm.index(v)+0.5)*c,
			Y: float64(plot.Max.Y) - (ym.index(v)+0.5)*c,
		})
	}
	x0, y0 := float64(plot.Min.X), float64(plot.Min.Y)
	x1, y1 := float64(plot.Max.X), float64(plot.Max.Y)
	var out []point
	for i := 1; i < len(pts); i++ {
		a, b, ok := clipSegment(pts[i-1], pts[i], x0, y0, x1, y1)
		if !ok || math.Hypot(b.X-a.X, b.Y-a.Y) < 1e-9 {
			continue
		}
		if n := len(out); n == 0 || math.Hypot(out[n-1].X-a.X, out[n-1].Y-a.Y) > 1e-6 {
			out = append(out, a)
		}
		out = append(out, b)
	}
	if len(out) < 2 {
		return nil
	}
	return out
}
