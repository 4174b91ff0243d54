package plot

import (
	"image/color"
	"math"
)

// colorHex is a 0xRRGGBB colour.
type colorHex uint32

// rgba converts h to an opaque color.RGBA.
func (h colorHex) rgba() color.RGBA {
	return color.RGBA{uint8(h >> 16), uint8(h >> 8), uint8(h), 0xFF}
}

// axis is a linear or log10 value scale with its ticks.
type axis struct {
	lo, hi float64 // shown range, in value space
	log    bool
	major  []float64
	minor  []float64
	labels []string // one per major tick
}

// newAxis returns the axis for data in [dlo, dhi], padded by frac of the
// span on both sides (in log space for log axes).
func newAxis(dlo, dhi float64, log bool, frac float64) axis {
	a := axis{log: log}
	lo, hi := dlo, dhi
	if log {
		lo, hi = math.Log10(lo), math.Log10(hi)
	}
	if lo == hi {
		d := 0.5
		if !log && lo != 0 {
			d = math.Abs(lo) * 0.1
		}
		lo, hi = lo-d, hi+d
	} else {
		span := hi - lo
		lo, hi = lo-frac*span, hi+frac*span
	}
	if log {
		lo, hi = math.Pow(10, lo), math.Pow(10, hi)
	}
	a.lo, a.hi = lo, hi
	return a
}

// setTicks chooses about target major ticks and formats their labels.
func (a *axis) setTicks(target int) {
	a.minor, a.labels = nil, nil
	if a.log {
		a.major, a.minor = logTicks(a.lo, a.hi)
		if len(a.major) >= 2 {
			for _, v := range a.major {
				a.labels = append(a.labels, formatValue(v, false))
			}
			return
		}
		a.minor = nil
	}
	var step float64
	a.major, step = linearTicks(a.lo, a.hi, target)
	d := stepDecimals(step)
	big := math.Max(math.Abs(a.lo), math.Abs(a.hi)) >= 1e5
	for _, v := range a.major {
		if big || a.log {
			a.labels = append(a.labels, formatValue(v, big))
		} else {
			a.labels = append(a.labels, formatFixed(v, d))
		}
	}
}

// frac maps v to its position in [0, 1] along the axis.
func (a axis) frac(v float64) float64 {
	if a.log {
		return (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	}
	return (v - a.lo) / (a.hi - a.lo)
}
