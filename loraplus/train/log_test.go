package train

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus"
)

// gradNormNow is the L2 norm of the trainable tensors' gradients as they stand, computed in Go.
func gradNormNow(s *Session) float64 {
	var sq float64
	for _, p := range s.Model().Params {
		g := p.Tensor.MustGrad(false)
		if g.MustDefined() {
			for _, v := range g.MustView([]int64{-1}, false).Float64Values(true) {
				sq += v * v
			}
		}
		g.MustDrop()
	}
	return math.Sqrt(sq)
}

// TestLogEntries trains 16 steps with a log line every 3 and checks every field of log.jsonl against what the
// steps did: the mean loss of the window, each group's learning rate under the linear schedule, the gradient
// norm before clipping (computed from the gradients after the step: equal to it without clipping, its clipped
// value with), the epoch and the throughput; without clipping, logging leaves the trajectory alone.
func TestLogEntries(t *testing.T) {
	runtime.LockOSThread()
	const every, total = 3, 16
	sched, err := loraplus.ParseSchedule("linear", 0, total)
	require.NoError(t, err)
	var unlogged map[string][]float64
	for _, tc := range []struct {
		name     string
		clip     float64
		logEvery int
	}{{"no clip, no log", 0, 0}, {"no clip", 0, every}, {"clip 0.5", 0.5, every}} {
		t.Run(tc.name, func(t *testing.T) {
			c := toyConfig(t.TempDir())
			c.ClipNorm, c.LogEvery = tc.clip, tc.logEvery
			var s *Session
			var losses, after []float64
			c.OnStep = func(_ int, l float64) {
				losses = append(losses, l)
				after = append(after, gradNormNow(s))
			}
			k := newToyTask(60, 3) // 8 steps an epoch
			s = newToySession(t, k, toyEval{k}, c, 0)
			_, err := s.Run(context.Background())
			require.NoError(t, err)
			require.Len(t, losses, total)
			if tc.logEvery == 0 {
				unlogged = trainable(s)
				assert.NoFileExists(t, filepath.Join(c.Out, LogFile))
				return
			}
			for name, w := range unlogged {
				if tc.clip > 0 {
					break
				}
				assert.Equal(t, w, trainable(s)[name], "logging changes no tensor: %s", name)
			}
			logs, err := ReadLog(filepath.Join(c.Out, LogFile))
			require.NoError(t, err)
			require.Len(t, logs, total/every)
			prev := 0.0
			for i, e := range logs {
				step := (i + 1) * every
				assert.Equal(t, step, e.Step)
				assert.InDelta(t, float64(step)/8, e.Epoch, 1e-12)
				var sum float64
				for _, l := range losses[step-every : step] {
					sum += l
				}
				assert.InDelta(t, sum/every, e.Loss, 1e-12, "step %d: mean loss of the window", step)
				lr := 1e-2 * sched.Factor(step-1)
				assert.Equal(t, roundMap(map[string]float64{"A": lr, "B": 16 * lr}), roundMap(e.LR), "step %d", step)
				require.NotNil(t, e.GradNorm, "step %d", step)
				pre, post := *e.GradNorm, after[step-1]
				assert.Greater(t, pre, 0.0)
				if tc.clip == 0 {
					assert.InDelta(t, post, pre, 1e-5*pre, "step %d: norm without clipping", step)
				} else {
					assert.InDelta(t, math.Min(pre, tc.clip), post, 1e-5, "step %d: norm clipped", step)
				}
				assert.Greater(t, e.ExamplesSec, 0.0)
				assert.Zero(t, e.TokensSec, "the toy task counts no tokens")
				assert.Greater(t, e.Seconds, prev)
				prev = e.Seconds
			}
		})
	}
}

// roundMap rounds values to 12 significant digits, so that lr·factor computed in two orders compares equal.
func roundMap(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k], _ = roundSig(v)
	}
	return out
}

func roundSig(v float64) (float64, error) {
	if v == 0 {
		return 0, nil
	}
	p := math.Pow(10, 11-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p, nil
}
