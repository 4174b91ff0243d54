package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCompareSummary checks the statistics of -compare on hand-made histories: means and sample standard
// deviations over the steps every seed evaluated, the difference and its standard error, and the step at which
// LoRA+'s mean first reaches LoRA's final mean.
func TestCompareSummary(t *testing.T) {
	run := func(steps []int, m ...float64) compareRun { return compareRun{Steps: steps, Metrics: m} }
	s3 := []int{50, 100, 150}
	tests := []struct {
		name      string
		lora      []compareRun
		plus      []compareRun
		wantSteps []int
		wantMean  float64 // LoRA+'s final mean
		wantStd   float64
		diff, se  float64
		reach     int
		speedUp   float64
	}{
		{"three seeds", []compareRun{run(s3, .5, .6, .70), run(s3, .5, .62, .72), run(s3, .5, .58, .74)},
			[]compareRun{run(s3, .6, .73, .80), run(s3, .6, .71, .84), run(s3, .6, .72, .82)},
			s3, .82, .02, .82 - .72, math.Sqrt(.02*.02/3 + .02*.02/3), 100, 1.5},
		{"never reaches", []compareRun{run(s3, .5, .6, .9)}, []compareRun{run(s3, .6, .7, .8)},
			s3, .8, 0, .8 - .9, 0, -1, 0},
		{"a step missing in one run is left out", []compareRun{run(s3, .5, .6, .7), run([]int{50, 150}, .5, .7)},
			[]compareRun{run(s3, .7, .7, .7), run([]int{50, 150}, .7, .7)},
			[]int{50, 150}, .7, 0, 0, 0, 50, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := compareResult{Arms: []compareArm{{Runs: tc.lora}, {Runs: tc.plus}}}
			for i := range r.Arms {
				r.Arms[i].summarize()
			}
			r.compare()
			assert.Equal(t, tc.wantSteps, r.Arms[1].Steps)
			m, sd := r.Arms[1].final()
			assert.InDelta(t, tc.wantMean, m, 1e-12)
			assert.InDelta(t, tc.wantStd, sd, 1e-12)
			assert.InDelta(t, tc.diff, r.Difference, 1e-12)
			assert.InDelta(t, tc.se, r.StdErr, 1e-12)
			assert.Equal(t, tc.reach, r.ReachStep)
			assert.InDelta(t, tc.speedUp, r.SpeedUp, 1e-12)
		})
	}
}

func TestRatioName(t *testing.T) {
	for r, want := range map[float64]string{16: "LoRA+ (ratio 16)", 1.5: "LoRA+ (ratio 1.5)", 0.0625: "ratio 0.0625"} {
		assert.Equal(t, want, ratioName(r))
	}
}
