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

// tbScalars reads the scalars of out/runs with tensorboard's EventAccumulator (scripts/reference/tb_scalars.py):
// tag → [[step, value], ...].
func tbScalars(t *testing.T, out string) map[string][][2]float64 {
	t.Helper()
	var got struct {
		FileVersion float64                 `json:"file_version"`
		Scalars     map[string][][2]float64 `json:"scalars"`
	}
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "tb_scalars.py", filepath.Join(out, TensorBoardDir))), &got))
	require.Equal(t, 2.0, got.FileVersion)
	return got.Scalars
}

// TestTensorBoardReadByTensorBoard trains the toy task 16 steps with a log line every 3 and an evaluation every
// 6, and reads the event file with tensorboard: it holds every log.jsonl line's loss, epoch, gradient norm and
// learning rate per group and every evaluation's metric, at their steps, as float32.
func TestTensorBoardReadByTensorBoard(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	k := newToyTask(60, 3)
	s := newToySession(t, k, toyEval{k}, hfConfig(out), 0)
	_, err := s.Run(context.Background())
	require.NoError(t, err)
	files, err := os.ReadDir(filepath.Join(out, TensorBoardDir))
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Regexp(t, `^events\.out\.tfevents\.\d{10}\.`, files[0].Name())

	logs, err := ReadLog(filepath.Join(out, LogFile))
	require.NoError(t, err)
	hist, err := ReadHistory(filepath.Join(out, HistoryFile))
	require.NoError(t, err)
	want := map[string][][2]float64{}
	add := func(tag string, step int, v float64) {
		want[tag] = append(want[tag], [2]float64{float64(step), float64(float32(v))})
	}
	for _, e := range logs {
		add("train/loss", e.Step, e.Loss)
		add("train/epoch", e.Step, e.Epoch)
		add("train/grad_norm", e.Step, *e.GradNorm)
		add("train/learning_rate_A", e.Step, e.LR["A"])
		add("train/learning_rate_B", e.Step, e.LR["B"])
	}
	for _, e := range hist {
		add("eval/neg_mse", e.Step, e.Metrics["neg_mse"])
	}
	require.Len(t, want["train/loss"], 5)
	require.Len(t, want["eval/neg_mse"], 3)
	assert.Equal(t, want, tbScalars(t, out))
}
