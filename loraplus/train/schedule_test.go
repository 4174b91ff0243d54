package train

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
)

// TestScheduleMatchesHFTrainer checks the learning rates a session applies at every optimizer step, read from
// the optimizer after each step, against those Hugging Face's Trainer applies with the same schedule, warmup
// and step count (scripts/reference/hf_trainer_lr.py records them at each optimizer step). A session that used
// the factor of the next step, or restarted the warmup, fails here even though the schedule's formulas are right.
func TestScheduleMatchesHFTrainer(t *testing.T) {
	runtime.LockOSThread()
	type tc struct {
		Name     string `json:"name"`
		Schedule string `json:"schedule"`
		Warmup   int    `json:"warmup"`
		Steps    int    `json:"steps"`
	}
	cases := []tc{
		{"linear", "linear", 3, 10}, {"linear-no-warmup", "linear", 0, 6}, {"cosine", "cosine", 2, 9},
		{"constant", "constant", 4, 8}, {"cosine-all-warmup", "cosine", 5, 5},
	}
	const lr, ratio = 1e-3, 16.0
	dir := t.TempDir()
	job, err := json.Marshal(map[string]any{"lr": lr, "ratio": ratio, "cases": cases})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "job.json"), job, 0o644))
	reftest.Run(t, "hf_trainer_lr.py", filepath.Join(dir, "job.json"), filepath.Join(dir, "out.json"))
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	require.NoError(t, err)
	var want map[string][][2]float64
	require.NoError(t, json.Unmarshal(data, &want))

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg := toyConfig(t.TempDir())
			cfg.Optim.LR, cfg.Optim.Ratio = lr, ratio
			cfg.Schedule, cfg.Warmup, cfg.MaxSteps, cfg.BatchSize = c.Schedule, c.Warmup, c.Steps, 4
			var got [][2]float64
			var s *Session
			cfg.OnStep = func(int, float64) {
				lrs := map[string]float64{}
				for i, g := range s.Optimizer().Groups() {
					lrs[g.Name] = s.Optimizer().AppliedLRs()[i]
				}
				got = append(got, [2]float64{lrs["A"], lrs["B"]})
			}
			k := newToyTask(64, 1)
			s = newToySession(t, k, k, cfg, 0)
			_, err := s.Run(context.Background())
			require.NoError(t, err)
			require.Len(t, got, len(want[c.Name]))
			for i := range got {
				assert.InDeltaSlice(t, want[c.Name][i][:], got[i][:], 1e-12, "step %d (lr_A, lr_B)", i+1)
			}
		})
	}
}
