package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResumeEqualsStraightRun trains 24 steps at once and 11 + resume + 13 (stopping mid-epoch, with dropout,
// clipping, evaluation, pruning and a log line every 3 steps) and compares every trainable tensor, the optimizer
// moments and the files (metrics.json, history.jsonl and log.jsonl, but for wall times and speeds, and the
// scalars TensorBoard reads from the event files).
func TestResumeEqualsStraightRun(t *testing.T) {
	runtime.LockOSThread()
	cfg := func(out string) Config {
		c := toyConfig(out)
		c.BatchSize, c.Epochs, c.SaveEvery, c.EvalEvery, c.Keep, c.ClipNorm, c.LogEvery = 8, 3, 4, 6, 2, 0.5, 3
		return c
	}
	run := func(cfg Config, stopAt int) (*Session, *Result, error) {
		k := newToyTask(60, 3) // 8 batches per epoch, the last one of 4
		var s *Session
		if stopAt > 0 {
			cfg.OnStep = func(step int, _ float64) {
				if step == stopAt {
					s.Stop()
				}
			}
		}
		s = newToySession(t, k, toyEval{k}, cfg, 0.1) // dropout masks repeat: libtorch is reseeded every step
		res, err := s.Run(context.Background())
		return s, res, err
	}
	straightOut := t.TempDir()
	straight, _, err := run(cfg(straightOut), 0)
	require.NoError(t, err)

	out := t.TempDir()
	_, res, err := run(cfg(out), 11)
	require.ErrorIs(t, err, ErrInterrupted)
	assert.True(t, res.Interrupted)
	assert.Equal(t, 11, res.Step)
	st, err := ReadState(filepath.Join(out, "checkpoint-11"))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 3}, []int{st.Epoch, st.EpochStep})

	c2 := cfg(out)
	c2.Resume = "latest"
	second, _, err := run(c2, 0)
	require.NoError(t, err)

	want, got := trainable(straight), trainable(second)
	require.Equal(t, len(want), len(got))
	for name, w := range want {
		assert.InDeltaSlice(t, w, got[name], 1e-6, name)
	}
	wantOpt, _ := straight.Optimizer().State()
	gotOpt, _ := second.Optimizer().State()
	for i := range wantOpt {
		assert.InDeltaSlice(t, wantOpt[i].Tensor.Float64Values(), gotOpt[i].Tensor.Float64Values(), 1e-6, wantOpt[i].Name)
	}
	assert.Equal(t, straight.Optimizer().Steps(), second.Optimizer().Steps())

	cps, err := Checkpoints(out)
	require.NoError(t, err)
	var steps []int
	for _, cp := range cps {
		steps = append(steps, cp.Step)
	}
	assert.Equal(t, []int{20, 24}, steps, "keep 2")
	hist, err := ReadHistory(filepath.Join(out, HistoryFile))
	require.NoError(t, err)
	var hsteps []int
	for _, h := range hist {
		hsteps = append(hsteps, h.Step)
	}
	assert.Equal(t, []int{6, 12, 18, 24}, hsteps, "history continues after the resume without duplicates")
	logs, err := ReadLog(filepath.Join(out, LogFile))
	require.NoError(t, err)
	var lsteps []int
	for _, e := range logs {
		lsteps = append(lsteps, e.Step)
	}
	assert.Equal(t, []int{3, 6, 9, 12, 15, 18, 21, 24}, lsteps, "log continues after the resume without duplicates")
	for _, name := range []string{MetricsFile, HistoryFile, LogFile} {
		assert.Equal(t, runFile(t, straightOut, name), runFile(t, out, name), name)
	}

	// A run resumed at its last step (a kill between the final checkpoint and metrics.json) writes the same.
	require.NoError(t, os.Remove(filepath.Join(out, MetricsFile)))
	_, _, err = run(c2, 0)
	require.NoError(t, err)
	assert.Equal(t, runFile(t, straightOut, MetricsFile), runFile(t, out, MetricsFile), "resumed at the last step")

	// A run killed after step 24's log line and evaluation but resumed from checkpoint 20 drops the lines past
	// step 20 and writes them again as the straight run did.
	c4 := cfg(out)
	c4.Resume = CheckpointDir(out, 20)
	_, _, err = run(c4, 0)
	require.NoError(t, err)
	for _, name := range []string{MetricsFile, HistoryFile, LogFile} {
		assert.Equal(t, runFile(t, straightOut, name), runFile(t, out, name), "resumed at step 20: %s", name)
	}
	// TensorBoard reads the four event files (a run, two resumes and this one) as the straight run's one.
	files, err := os.ReadDir(filepath.Join(out, TensorBoardDir))
	require.NoError(t, err)
	assert.Len(t, files, 4)
	assert.Equal(t, tbScalars(t, straightOut), tbScalars(t, out), "TensorBoard scalars")

	// Another setting refuses the checkpoint, naming the setting.
	c3 := cfg(out)
	c3.Resume, c3.Optim.Ratio = "latest", 4
	k := newToyTask(60, 3)
	_, err = New(wrapToy(t, k, 0.1), toyEval{k}, c3)
	require.ErrorContains(t, err, `setting "ratio" was "16" in the checkpoint, now "4"`)
}

// TestGradAccumMatchesWholeBatch checks that N accumulated batches of b examples give the step of one batch of
// N·b: the same step losses and tensors after two epochs of 29 examples, whose last step is short (12, 12, 5:
// with b = 3, batches of 3 and 2 that count 3/5 and 2/5).
func TestGradAccumMatchesWholeBatch(t *testing.T) {
	runtime.LockOSThread()
	var ref map[string][]float64
	var refLoss []float64
	for _, tc := range []struct{ batch, accum int }{{12, 1}, {6, 2}, {3, 4}, {1, 12}} {
		accum := tc.accum
		c := toyConfig(t.TempDir())
		c.BatchSize, c.GradAccum, c.Epochs, c.ClipNorm = tc.batch, tc.accum, 2, 0.5
		var losses []float64
		c.OnStep = func(_ int, l float64) { losses = append(losses, l) }
		k := newToyTask(29, 5)
		s := newToySession(t, k, k, c, 0)
		_, err := s.Run(context.Background())
		require.NoError(t, err)
		got := trainable(s)
		if accum == 1 {
			ref, refLoss = got, losses
			continue
		}
		require.Len(t, losses, 6, "accum %d: 3 steps an epoch", accum)
		assert.InDeltaSlice(t, refLoss, losses, 1e-6, "accum %d: step losses", accum)
		for name, w := range ref {
			assert.InDeltaSlice(t, w, got[name], 1e-6, "accum %d: %s", accum, name)
		}
	}
}

func TestNaNLossStopsAndKeepsLastGoodCheckpoint(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	c := toyConfig(out)
	c.SaveEvery = 3
	k := newToyTask(32, 1)
	k.nanFrom = 5
	s := newToySession(t, k, toyEval{k}, c, 0)
	before := trainable(s)
	_, err := s.Run(context.Background())
	require.ErrorContains(t, err, "loss is NaN at step 5 (epoch 1, batch 0); stopped before the update, last good checkpoint: "+
		filepath.Join(out, "checkpoint-3"))
	cps, err := Checkpoints(out)
	require.NoError(t, err)
	require.Len(t, cps, 1)
	assert.Equal(t, 3, cps[0].Step)
	for name, v := range trainable(s) {
		for _, x := range v {
			require.False(t, math.IsNaN(x), "%s holds NaN after the stop", name)
		}
		assert.NotEqual(t, before[name], v, "%s trained before the stop", name)
	}
	assert.NoFileExists(t, filepath.Join(out, HistoryFile), "no evaluation ran: no empty history")
	assert.NoFileExists(t, filepath.Join(out, MetricsFile))
}

func TestStopWritesCheckpoint(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	k := newToyTask(32, 1)
	s := newToySession(t, k, k, toyConfig(out), 0)
	s.Stop() // as the signal handler does, before the first step
	res, err := s.Run(context.Background())
	require.ErrorIs(t, err, ErrInterrupted)
	assert.Equal(t, 0, res.Step)
	assert.FileExists(t, filepath.Join(out, "checkpoint-0", StateFile))

	ctx, cancel := context.WithCancel(context.Background())
	c := toyConfig(t.TempDir())
	c.OnStep = func(step int, _ float64) {
		if step == 2 {
			cancel()
		}
	}
	k = newToyTask(32, 1)
	s = newToySession(t, k, k, c, 0)
	res, err = s.Run(ctx)
	require.ErrorIs(t, err, ErrInterrupted)
	assert.Equal(t, 2, res.Step)
	assert.Contains(t, err.Error(), "checkpoint-2")
	assert.NoFileExists(t, filepath.Join(c.Out, MetricsFile))
}

func TestCheckpointRefusesNonFiniteTensors(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	k := newToyTask(16, 1)
	s := newToySession(t, k, k, toyConfig(out), 0)
	w := s.Model().Params[0].Tensor.MustDetach(false)
	w.MustFill_(scalar(math.NaN()))
	_, err := s.SaveCheckpoint()
	require.ErrorContains(t, err, `tensor "proj.lora_A.weight" is not finite`)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestCheckpointIsAtomic(t *testing.T) {
	runtime.LockOSThread()
	for _, stage := range []string{"adapter", "optimizer", "state"} {
		t.Run(stage, func(t *testing.T) {
			out := t.TempDir()
			k := newToyTask(16, 1)
			s := newToySession(t, k, k, toyConfig(out), 0)
			checkpointHook = func(s string) error {
				if s == stage {
					return errors.New("disk full")
				}
				return nil
			}
			defer func() { checkpointHook = nil }()
			_, err := s.SaveCheckpoint()
			require.ErrorContains(t, err, "train: checkpoint step 0: disk full")
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			assert.Empty(t, entries, "no partial checkpoint and no temporary folder left")

			checkpointHook = nil
			dir, err := s.SaveCheckpoint()
			require.NoError(t, err)
			for _, f := range []string{"adapter_config.json", "adapter_model.safetensors", OptimizerFile, StateFile} {
				assert.FileExists(t, filepath.Join(dir, f))
			}
		})
	}
}

// TestCheckpointSyncOrder pins the durable write order: every file is written (and synced by nn) into the
// temporary folder, that folder is synced, then renamed to checkpoint-STEP, then the output folder is synced.
func TestCheckpointSyncOrder(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	k := newToyTask(16, 1)
	s := newToySession(t, k, k, toyConfig(out), 0)
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
			for _, f := range []string{"adapter_config.json", "adapter_model.safetensors", OptimizerFile, StateFile} {
				assert.FileExists(t, filepath.Join(dir, f), "every file is in place when its folder is synced")
			}
		default:
			events = append(events, "sync "+dir)
		}
		return sync(dir)
	}
	defer func() { checkpointHook, syncDir = nil, sync }()
	dir, err := s.SaveCheckpoint()
	require.NoError(t, err)
	assert.Equal(t, final, dir)
	assert.Equal(t, []string{"adapter", "optimizer", "state", "sync tmp", "sync out"}, events)
}

// TestPartialWritesRemoved checks that what a killed checkpoint, metrics or history write leaves in the output
// folder is removed when a session starts and after each checkpoint, and that the log names it.
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
	cfg := toyConfig(out)
	log := &strings.Builder{}
	cfg.Log = log
	k := newToyTask(16, 1)
	s := newToySession(t, k, k, cfg, 0)
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
	_, err := s.SaveCheckpoint()
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

func TestResolveCheckpoint(t *testing.T) {
	out := t.TempDir()
	_, err := ResolveCheckpoint(out, "latest")
	require.EqualError(t, err, "train: resume latest: no checkpoint-STEP folder in "+out)
	for _, step := range []int{2, 10, 9} {
		require.NoError(t, os.MkdirAll(CheckpointDir(out, step), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(CheckpointDir(out, step), StateFile), []byte("{}"), 0o644))
	}
	dir, err := ResolveCheckpoint(out, "latest")
	require.NoError(t, err)
	assert.Equal(t, CheckpointDir(out, 10), dir, "the newest by step, not by name")
	_, err = ResolveCheckpoint(out, t.TempDir())
	require.ErrorContains(t, err, "is not a checkpoint (no trainer_state.json)")
}

func TestStateCheck(t *testing.T) {
	ok := State{Step: 5, Epoch: 1, EpochStep: 1, RunLossSteps: 5, RunLossSum: 3, LossSteps: 2, LossSum: 1}
	require.NoError(t, ok.Check(8, 4))
	for _, tc := range []struct {
		edit func(*State)
		want string
	}{
		{func(s *State) { s.Step = 9 }, "global_step 9 outside [0, 8]"},
		{func(s *State) { s.EpochStep = 4 }, "epoch_step 4 outside [0, 4)"},
		{func(s *State) { s.Epoch = 0 }, "epoch 0, epoch_step 1 do not add up to global_step 5"},
		{func(s *State) { s.RunLossSteps = 6 }, "run_loss_steps 6 outside [0, global_step 5]"},
		{func(s *State) { s.LossSteps = -1 }, "loss_steps -1 outside [0, run_loss_steps 5]"},
		{func(s *State) { s.LossSteps = 6 }, "loss_steps 6 outside [0, run_loss_steps 5]"},
		{func(s *State) { s.LogLossSteps = 6 }, "log_loss_steps 6 outside [0, run_loss_steps 5]"},
		{func(s *State) { s.RunLossSum = math.Inf(1) }, "loss_sum 1, run_loss_sum +Inf or log_loss_sum 0 is not finite"},
		{func(s *State) { s.LogLossSum = math.NaN() }, "loss_sum 1, run_loss_sum 3 or log_loss_sum NaN is not finite"},
	} {
		s := ok
		tc.edit(&s)
		assert.EqualError(t, s.Check(8, 4), tc.want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.BatchSize = 0 }, "train: batch size must be > 0, got 0"},
		{func(c *Config) { c.GradAccum = -1 }, "train: gradient accumulation steps must be >= 0, got -1"},
		{func(c *Config) { c.Epochs = 0 }, "train: epochs must be > 0 (or set max steps), got 0"},
		{func(c *Config) { c.ClipNorm = math.NaN() }, "train: gradient clip norm must be >= 0, got NaN"},
		{func(c *Config) { c.Keep = -1 }, "train: eval-every, save-every and keep must be >= 0, got 0, 0, -1"},
		{func(c *Config) { c.LogEvery = -2 }, "train: log-every must be >= 0, got -2"},
		{func(c *Config) { c.Schedule = "step" }, "train: "},
		{func(c *Config) { c.Out = "" }, "train: no output folder"},
	} {
		c := toyConfig("out")
		tc.edit(&c)
		assert.ErrorContains(t, c.Validate(), tc.want)
	}
}

func TestEpochOrderAndBatches(t *testing.T) {
	a := EpochOrder(rand.New(rand.NewPCG(1, 2)), 10, true)
	b := EpochOrder(rand.New(rand.NewPCG(1, 2)), 10, true)
	assert.Equal(t, a, b, "same seed, same order")
	assert.ElementsMatch(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, a)
	assert.Equal(t, []int{0, 1, 2}, EpochOrder(nil, 3, false))
	assert.Equal(t, [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}, BatchIndices(EpochOrder(nil, 10, false), 4))
	for _, c := range []struct{ n, size, want int }{{10, 4, 3}, {8, 4, 2}, {1, 32, 1}, {0, 4, 0}, {5, 0, 0}} {
		assert.Equal(t, c.want, StepsPerEpoch(c.n, c.size), "n=%d size=%d", c.n, c.size)
	}
}
