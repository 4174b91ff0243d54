package glue

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckpointSyncOrder pins the durable write order: every file is written (and synced by nn) into the
// temporary folder, that folder is synced, then renamed to checkpoint-STEP, then the output folder is synced.
func TestCheckpointSyncOrder(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	tr, err := NewTrainer(newTinyClassifier(1, 2), tinyConfig(t, out), tinyData(t, 16, 8))
	require.NoError(t, err)
	final := filepath.Join(out, "checkpoint-0")
	var events []string
	checkpointHook = func(stage string) error { events = append(events, stage); return nil }
	sync := syncDir
	syncDir = func(dir string) error {
		switch {
		case dir == out:
			events = append(events, "sync out")
			assert.DirExists(t, final, "out is synced after the rename")
		case strings.HasPrefix(filepath.Base(dir), PartialPrefix):
			events = append(events, "sync tmp")
			assert.NoDirExists(t, final, "the temporary folder is synced before the rename")
			for _, f := range []string{"adapter_config.json", "adapter_model.safetensors", OptimizerFile, TrainerStateFile} {
				assert.FileExists(t, filepath.Join(dir, f), "every file is in place when its folder is synced")
			}
		default:
			events = append(events, "sync "+dir)
		}
		return sync(dir)
	}
	defer func() { checkpointHook, syncDir = nil, sync }()
	dir, err := tr.SaveCheckpoint()
	require.NoError(t, err)
	assert.Equal(t, final, dir)
	assert.Equal(t, []string{"adapter", "optimizer", "state", "sync tmp", "sync out"}, events)
}

// TestPartialWritesRemoved checks that what a killed checkpoint, metrics or history write leaves in the output
// folder is removed when a trainer starts and after each checkpoint, and that the log names it.
func TestPartialWritesRemoved(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	partial := func(name string, dir bool) string {
		p := filepath.Join(out, name)
		if dir {
			require.NoError(t, os.MkdirAll(p, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(p, "adapter_model.safetensors"), []byte("cut"), 0o644))
		} else {
			require.NoError(t, os.WriteFile(p, []byte("{"), 0o644))
		}
		return p
	}
	keep := partial("checkpoint-notes", true) // not a partial write: left alone
	a := partial(PartialPrefix+"123", true)
	b := partial("."+MetricsFile+".tmp456", false)
	c := partial(PartialPrefix+"789", true)
	require.NoError(t, os.MkdirAll(filepath.Join(out, "checkpoint-2"), 0o755))
	cfg := tinyConfig(t, out)
	log := &strings.Builder{}
	cfg.Log = log
	tr, err := NewTrainer(newTinyClassifier(1, 2), cfg, tinyData(t, 16, 8))
	require.NoError(t, err)
	for _, p := range []string{a, b, c} {
		assert.NoFileExists(t, p)
		assert.NoDirExists(t, p)
	}
	assert.DirExists(t, keep)
	assert.DirExists(t, filepath.Join(out, "checkpoint-2"))
	assert.Equal(t, "removed partial file "+b+" (left by a run stopped while writing it)\n"+
		"removed partial checkpoint folder "+a+" (left by a run stopped while writing it)\n"+
		"removed partial checkpoint folder "+c+" (left by a run stopped while writing it)\n", log.String())

	log.Reset()
	d := partial(PartialPrefix+"42", true)
	e := partial("."+HistoryFile+".tmp7", false)
	_, err = tr.SaveCheckpoint()
	require.NoError(t, err)
	assert.NoDirExists(t, d, "pruning removes partial folders too")
	assert.NoFileExists(t, e)
	assert.Contains(t, log.String(), "removed partial checkpoint folder "+d)
	assert.Contains(t, log.String(), "removed partial file "+e)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	assert.Equal(t, []string{"checkpoint-0", "checkpoint-2", "checkpoint-notes"}, names, "keep 0 keeps all checkpoints")
}

// A run that fails before its first evaluation leaves no history.jsonl (an empty one read as a run with no
// evaluation yet).
func TestNoEmptyHistory(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	m := newTinyClassifier(1, 2)
	m.nanFrom = 1
	tr, err := NewTrainer(m, tinyConfig(t, out), tinyData(t, 16, 8))
	require.NoError(t, err)
	_, err = tr.Run(context.Background())
	require.ErrorContains(t, err, "loss is NaN at step 1")
	assert.NoFileExists(t, filepath.Join(out, HistoryFile))
}

func TestTrainerStateCheck(t *testing.T) {
	ok := TrainerState{Step: 5, Epoch: 1, EpochStep: 1, RunLossSteps: 5, RunLossSum: 3, LossSteps: 2, LossSum: 1}
	require.NoError(t, ok.Check(8, 4))
	for _, tc := range []struct {
		edit func(*TrainerState)
		want string
	}{
		{func(s *TrainerState) { s.Step = 9 }, "global_step 9 outside [0, 8]"},
		{func(s *TrainerState) { s.EpochStep = 4 }, "epoch_step 4 outside [0, 4)"},
		{func(s *TrainerState) { s.Epoch = 0 }, "epoch 0, epoch_step 1 do not add up to global_step 5"},
		{func(s *TrainerState) { s.RunLossSteps = 6 }, "run_loss_steps 6 outside [0, global_step 5]"},
		{func(s *TrainerState) { s.LossSteps = -1 }, "loss_steps -1 outside [0, run_loss_steps 5]"},
		{func(s *TrainerState) { s.LossSteps = 6 }, "loss_steps 6 outside [0, run_loss_steps 5]"},
		{func(s *TrainerState) { s.RunLossSum = math.Inf(1) }, "loss_sum 1 or run_loss_sum +Inf is not finite"},
	} {
		s := ok
		tc.edit(&s)
		assert.EqualError(t, s.Check(8, 4), tc.want)
	}
}
