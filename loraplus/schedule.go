package loraplus

import (
	"fmt"
	"math"
)

// Schedule gives the factor that multiplies every group's learning rate at a step, so lr_B/lr_A stays the ratio.
// The formulas are those of Hugging Face's get_constant_schedule_with_warmup, get_linear_schedule_with_warmup and
// get_cosine_schedule_with_warmup; step counts from 0 (the first optimizer step uses Factor(0)).
type Schedule struct {
	Kind   string // "constant", "linear" or "cosine"
	Warmup int    // steps of linear warmup from 0
	Total  int    // total optimizer steps (linear and cosine decay to 0 at Total)
}

// ParseSchedule checks a schedule.
func ParseSchedule(kind string, warmup, total int) (Schedule, error) {
	s := Schedule{Kind: kind, Warmup: warmup, Total: total}
	switch {
	case kind != "constant" && kind != "linear" && kind != "cosine":
		return s, fmt.Errorf("unknown schedule %q (want constant, linear or cosine)", kind)
	case warmup < 0:
		return s, fmt.Errorf("warmup steps must be >= 0, got %d", warmup)
	case kind != "constant" && total <= 0:
		return s, fmt.Errorf("a %s schedule needs the total number of steps, got %d", kind, total)
	}
	return s, nil
}

// Factor returns the learning-rate multiplier at a step.
func (s Schedule) Factor(step int) float64 {
	if step < s.Warmup {
		return float64(step) / math.Max(1, float64(s.Warmup))
	}
	switch s.Kind {
	case "linear":
		return math.Max(0, float64(s.Total-step)/math.Max(1, float64(s.Total-s.Warmup)))
	case "cosine":
		progress := float64(step-s.Warmup) / math.Max(1, float64(s.Total-s.Warmup))
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*progress)))
	}
	return 1
}
