package plot

import (
	"math"
	"strconv"
)

// niceStep returns a step of the form {1, 2, 2.5, 5} x 10^k close to
// span/target.
func niceStep(span float64, target int) float64 {
	if target < 1 {
		target = 1
	}
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 2.5:
		return 2.5 * mag
	case f <= 5:
		return 5 * mag
	default:
		return 10 * mag
	}
}

// linearTicks returns the multiples of a nice step inside [lo, hi], aiming
// at about target ticks, and the step.
func linearTicks(lo, hi float64, target int) ([]float64, float64) {
	step := niceStep(hi-lo, target)
	k0 := math.Ceil(lo/step - 1e-9)
	k1 := math.Floor(hi/step + 1e-9)
	var ticks []float64
	for k := k0; k <= k1 && len(ticks) < 1000; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, v)
	}
	return ticks, step
}

// logTicks returns tick values for a log-scaled axis over [lo, hi] (both
// > 0): the powers of ten inside the range, with 2x and 5x multiples added
// when fewer than three decades are covered. minor lists the remaining
// integer multiples 2..9 of each decade inside the range.
func logTicks(lo, hi float64) (major, minor []float64) {
	e0 := int(math.Floor(math.Log10(lo)))
	e1 := int(math.Ceil(math.Log10(hi)))
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	for e := e0; e <= e1; e++ {
		if v := math.Pow(10, float64(e)); in(v) {
			major = append(major, v)
		}
	}
	dense := len(major) < 3
	major = major[:0]
	for e := e0; e <= e1; e++ {
		d := math.Pow(10, float64(e))
		for m := 1; m <= 9; m++ {
			v := float64(m) * d
			if !in(v) {
				continue
			}
			if m == 1 || (dense && (m == 2 || m == 5)) {
				major = append(major, v)
			} else {
				minor = append(minor, v)
			}
		}
	}
	return major, minor
}

// stepDecimals is the number of decimals needed to print multiples of step
// exactly (2.5 needs one, 0.25 two).
func stepDecimals(step float64) int {
	for d := 0; d < 12; d++ {
		s := step * math.Pow(10, float64(d))
		if math.Abs(s-math.Round(s)) < 1e-6*math.Max(1, s) {
			return d
		}
	}
	return 12
}

// formatFixed prints v with d decimals, never as "-0".
func formatFixed(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	if z := strconv.FormatFloat(0, 'f', d, 64); s == "-"+z {
		return z
	}
	return s
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
	d := 1
	if m == math.Trunc(m) {
		d = 0
	}
	return strconv.FormatFloat(m, 'f', d, 64) + "e" + strconv.Itoa(int(e))
}

// formatValue prints an axis value: scientific for very small or large
// magnitudes (or when sci is set), otherwise up to three significant digits.
func formatValue(v float64, sci bool) string {
	a := math.Abs(v)
	if sci || (a != 0 && (a < 1e-2 || a >= 1e5)) {
		return formatSci(v)
	}
	if a == 0 {
		return "0"
	}
	e := math.Floor(math.Log10(a))
	d := int(math.Max(0, 2-e))
	s := strconv.FormatFloat(v, 'f', d, 64)
	if d > 0 {
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
	}
	return s
}
