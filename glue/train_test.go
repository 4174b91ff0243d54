package glue

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

func TestTrainLowersLossAndWritesMetrics(t *testing.T) {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread
	out := t.TempDir()
	c := tinyConfig(t, out)
	c.Epochs, c.EvalEvery = 10, 20
	c.Optim.LR = 5e-2
	var losses []float64
	c.OnStep = func(_ int, l float64) { losses = append(losses, l) }
	tr, err := NewTrainer(newTinyClassifier(1, 2), c, tinyData(t, 64, 48))
	require.NoError(t, err)
	assert.Contains(t, tr.Plan().String(), "proj.lora_B.weight")
	res, err := tr.Run(context.Background())
	require.NoError(t, err)

	require.Len(t, losses, 80)
	first, last := mean(losses[:6]), mean(losses[len(losses)-6:])
	assert.Less(t, last, 0.6*first, "loss falls: first steps %.3f, last steps %.3f", first, last)
	assert.Equal(t, 80, res.Step)
	assert.InDelta(t, 10.0, res.Epoch, 1e-9)
	assert.Greater(t, res.Metrics["eval_accuracy"], 0.75, "well above chance (0.5)")

	var got map[string]any
	data, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, "sst-2", got["task"])
	assert.EqualValues(t, 80, got["global_step"])
	assert.Contains(t, got["metrics"], "eval_accuracy")
	best := got["best"].(map[string]any)
	assert.Equal(t, "eval_accuracy", best["name"])

	hist, err := train.ReadHistory(filepath.Join(out, train.HistoryFile))
	require.NoError(t, err)
	require.Len(t, hist, 4, "evaluations at steps 20, 40, 60, 80")
	for i, h := range hist {
		assert.Equal(t, 20*(i+1), h.Step)
		assert.InDelta(t, 16*h.LRA, h.LRB, 1e-12, "lr_B = ratio · lr_A")
		assert.Contains(t, h.Metrics, "eval_accuracy")
	}
	assert.Greater(t, hist[0].LRA, hist[3].LRA, "linear decay")
	assert.DirExists(t, filepath.Join(out, "checkpoint-80"))
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestResumeEqualsStraightRun trains 2N steps at once and N + resume + N (stopping mid-epoch) and compares
// every trainable tensor and the optimizer moments.
func TestResumeEqualsStraightRun(t *testing.T) {
	runtime.LockOSThread()
	data := tinyData(t, 60, 16) // 8 batches per epoch, the last one of 4
	cfg := func(out string) TrainConfig {
		c := tinyConfig(t, out)
		c.Epochs, c.SaveEvery, c.EvalEvery, c.Keep, c.ClipNorm = 3, 4, 6, 2, 1.0
		c.LoRA.Dropout = 0.1 // dropout masks repeat: libtorch is reseeded every step
		return c
	}
	straightOut := t.TempDir()
	straight, err := NewTrainer(newTinyClassifier(3, 2), cfg(straightOut), data)
	require.NoError(t, err)
	_, err = straight.Run(context.Background())
	require.NoError(t, err)

	out := t.TempDir()
	c := cfg(out)
	var first *Trainer
	c.OnStep = func(step int, _ float64) {
		if step == 11 {
			first.Stop()
		}
	}
	first, err = NewTrainer(newTinyClassifier(3, 2), c, data)
	require.NoError(t, err)
	res, err := first.Run(context.Background())
	require.ErrorIs(t, err, train.ErrInterrupted)
	assert.True(t, res.Interrupted)
	assert.Equal(t, 11, res.Step)
	st, err := train.ReadState(filepath.Join(out, "checkpoint-11"))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Epoch)
	assert.Equal(t, 3, st.EpochStep)

	c2 := cfg(out)
	c2.Resume = "latest"
	second, err := NewTrainer(newTinyClassifier(3, 2), c2, data)
	require.NoError(t, err)
	assert.Equal(t, 11, second.State().Step)
	_, err = second.Run(context.Background())
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

	cps, err := train.Checkpoints(out)
	require.NoError(t, err)
	var steps []int
	for _, cp := range cps {
		steps = append(steps, cp.Step)
	}
	assert.Equal(t, []int{20, 24}, steps, "keep 2")
	hist, err := train.ReadHistory(filepath.Join(out, train.HistoryFile))
	require.NoError(t, err)
	var hsteps []int
	for _, h := range hist {
		hsteps = append(hsteps, h.Step)
	}
	assert.Equal(t, []int{6, 12, 18, 24}, hsteps, "history continues after the resume without duplicates")

	// The metrics files are the straight run's, train_loss included, up to wall times and the output folder.
	for _, name := range []string{train.MetricsFile, train.HistoryFile} {
		assert.Equal(t, runFile(t, straightOut, name), runFile(t, out, name), name)
	}
	// So are those of a run resumed at its last step (a kill between the final checkpoint and metrics.json).
	require.NoError(t, os.Remove(filepath.Join(out, train.MetricsFile)))
	c3 := cfg(out)
	c3.Resume = "latest"
	third, err := NewTrainer(newTinyClassifier(3, 2), c3, data)
	require.NoError(t, err)
	_, err = third.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, runFile(t, straightOut, train.MetricsFile), runFile(t, out, train.MetricsFile), "resumed at the last step")
}

// runFile reads a run's metrics.json or history.jsonl with what differs between two runs of the same training
// blanked: wall times and speeds, and the output folder in paths.
func runFile(t *testing.T, out, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, name))
	require.NoError(t, err)
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if name == train.MetricsFile {
			line = string(data)
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(line, out, "OUT")), &m))
		for _, k := range []string{"seconds", "train_seconds", "train_examples_per_second", "seconds_per_step", "train_tokens_per_second"} {
			if _, ok := m[k]; ok {
				m[k] = 0
			}
		}
		rows = append(rows, m)
		if name == train.MetricsFile {
			break
		}
	}
	return rows
}

func TestResumeRejectsOtherSettings(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	data := tinyData(t, 16, 8)
	c := tinyConfig(t, out)
	c.Epochs = 1
	tr, err := NewTrainer(newTinyClassifier(1, 2), c, data)
	require.NoError(t, err)
	_, err = tr.Run(context.Background())
	require.NoError(t, err)

	c.Resume = "latest"
	c.Optim.Ratio = 4
	_, err = NewTrainer(newTinyClassifier(1, 2), c, data)
	require.ErrorContains(t, err, `setting "ratio" was "16" in the checkpoint, now "4"`)

	c = tinyConfig(t, t.TempDir())
	c.Resume = "latest"
	_, err = NewTrainer(newTinyClassifier(1, 2), c, data)
	require.ErrorContains(t, err, "no checkpoint-STEP folder")
	c.Resume = t.TempDir()
	_, err = NewTrainer(newTinyClassifier(1, 2), c, data)
	require.ErrorContains(t, err, "is not a checkpoint")
}

func TestNaNLossStopsAndKeepsLastGoodCheckpoint(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	c := tinyConfig(t, out)
	c.SaveEvery = 3
	m := newTinyClassifier(1, 2)
	m.nanFrom = 5
	tr, err := NewTrainer(m, c, tinyData(t, 32, 8))
	require.NoError(t, err)
	_, err = tr.Run(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loss is NaN at step 5")
	assert.Contains(t, err.Error(), "checkpoint-3")
	cps, err := train.Checkpoints(out)
	require.NoError(t, err)
	require.Len(t, cps, 1)
	assert.Equal(t, 3, cps[0].Step)
	for name, v := range trainable(tr) {
		for _, x := range v {
			require.False(t, x != x, "%s holds NaN after the stop", name)
		}
	}
}
func TestStopWritesCheckpoint(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	c := tinyConfig(t, out)
	tr, err := NewTrainer(newTinyClassifier(1, 2), c, tinyData(t, 32, 8))
	require.NoError(t, err)
	tr.Stop() // as the signal handler does, before the first step
	res, err := tr.Run(context.Background())
	require.ErrorIs(t, err, train.ErrInterrupted)
	assert.Equal(t, 0, res.Step)
	assert.FileExists(t, filepath.Join(out, "checkpoint-0", train.StateFile))

	ctx, cancel := context.WithCancel(context.Background())
	c = tinyConfig(t, t.TempDir())
	c.OnStep = func(step int, _ float64) {
		if step == 2 {
			cancel()
		}
	}
	tr, err = NewTrainer(newTinyClassifier(1, 2), c, tinyData(t, 32, 8))
	require.NoError(t, err)
	res, err = tr.Run(ctx)
	require.ErrorIs(t, err, train.ErrInterrupted)
	assert.Equal(t, 2, res.Step)
	assert.Contains(t, err.Error(), "checkpoint-2")
	assert.NoFileExists(t, filepath.Join(c.Out, train.MetricsFile))
}

func TestTrainConfigErrors(t *testing.T) {
	task, err := TaskByName("mnli")
	require.NoError(t, err)
	cases := []struct {
		name string
		edit func(*TrainConfig)
		err  string
	}{
		{"batch", func(c *TrainConfig) { c.BatchSize = 0 }, "batch size must be > 0"},
		{"max len", func(c *TrainConfig) { c.MaxLen = -1 }, "max length must be > 0"},
		{"epochs", func(c *TrainConfig) { c.Epochs = 0 }, "epochs must be > 0"},
		{"max steps", func(c *TrainConfig) { c.MaxSteps = -2 }, "max steps must be >= 0"},
		{"schedule", func(c *TrainConfig) { c.Schedule = "step" }, `unknown schedule "step"`},
		{"warmup", func(c *TrainConfig) { c.Warmup = -1 }, "warmup steps must be >= 0"},
		{"lr", func(c *TrainConfig) { c.Optim.LR = 0 }, "learning rate must be > 0"},
		{"ratio", func(c *TrainConfig) { c.Optim.Ratio = -16 }, "ratio must be > 0"},
		{"rank", func(c *TrainConfig) { c.LoRA.Rank = 0 }, "rank must be > 0"},
		{"dropout", func(c *TrainConfig) { c.LoRA.Dropout = 1 }, "dropout must be in [0, 1)"},
		{"targets", func(c *TrainConfig) { c.LoRA.Targets = nil }, "no target modules"},
		{"clip", func(c *TrainConfig) { c.ClipNorm = -1 }, "clip norm must be >= 0"},
		{"keep", func(c *TrainConfig) { c.Keep = -1 }, "keep must be >= 0"},
		{"out", func(c *TrainConfig) { c.Out = "" }, "no output folder"},
		{"task", func(c *TrainConfig) { c.Task = Task{Name: "x"} }, "fewer than 2 labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultTrainConfig(task, 2e-4, "c_attn")
			require.NoError(t, cfg.Validate())
			c.edit(&cfg)
			require.ErrorContains(t, cfg.Validate(), c.err)
		})
	}
	sst, err := TaskByName("sst-2")
	require.NoError(t, err)
	assert.Equal(t, 10, DefaultTrainConfig(sst, 5e-5).Epochs)
	assert.Equal(t, 3, DefaultTrainConfig(task, 5e-5).Epochs)
}

// TestDefaultTrainConfigClips checks the gradient clipping of the authors' GLUE scripts: Hugging Face Trainer's
// max_grad_norm 1.
func TestDefaultTrainConfigClips(t *testing.T) {
	for _, task := range Tasks() {
		assert.Equal(t, 1.0, DefaultTrainConfig(task, 2e-4, "c_attn").ClipNorm, task.Name)
	}
}

func TestTrainerErrors(t *testing.T) {
	runtime.LockOSThread()
	data := tinyData(t, 16, 8)
	c := tinyConfig(t, t.TempDir())
	c.LoRA.Targets = []string{"nope"}
	_, err := NewTrainer(newTinyClassifier(1, 2), c, data)
	require.ErrorContains(t, err, `"nope" match no module`)

	c = tinyConfig(t, t.TempDir())
	c.FrozenHead = []string{"score.scale"}
	_, err = NewTrainer(newTinyClassifier(1, 2), c, data)
	require.ErrorContains(t, err, `frozen head tensor "score.scale" is not in the model's head (score.weight, score.bias)`)
	c.FrozenHead = []string{"score.weight"}
	tr, err := NewTrainer(newTinyClassifier(1, 2), c, data)
	require.NoError(t, err)
	var names []string
	for _, p := range tr.Model().Params {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"proj.lora_A.weight", "proj.lora_B.weight", "score.bias"}, names)

	c = tinyConfig(t, t.TempDir())
	_, err = NewTrainer(newTinyClassifier(1, 2), c, TrainData{})
	require.ErrorContains(t, err, "no training examples")

	c = tinyConfig(t, t.TempDir())
	tr, err = NewTrainer(newTinyClassifier(1, 3), c, data) // 3 logits for a 2-label task
	require.NoError(t, err)
	_, err = tr.Run(context.Background())
	require.ErrorContains(t, err, "logits of shape [8 3], want [8 2]")

	bad := tinyData(t, 16, 8)
	bad.Train[3].IDs[0] = tinyVocab + 5
	tr, err = NewTrainer(newTinyClassifier(1, 2), tinyConfig(t, t.TempDir()), bad)
	require.NoError(t, err)
	_, err = tr.Run(context.Background())
	require.ErrorContains(t, err, "batch does not fit the model: input ids: value 261 outside the vocabulary")
}

func TestLoadTrainData(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "glue")
	_, err := os.Stat(dir)
	require.NoError(t, err, "the shared GLUE data is missing: want it at %s", dir)
	mnli, err := TaskByName("mnli")
	require.NoError(t, err)
	data, rep, err := LoadTrainData(mnli, filepath.Join(dir, "MNLI-16shot"), hashTokenizer(), DataOptions{MaxLen: 8, LimitEval: 10})
	require.NoError(t, err)
	assert.Len(t, data.Train, 48)
	require.Len(t, data.Evals, 1, "only the matched dev set is in the shared data")
	assert.Equal(t, "mnli-m", data.Evals[0].Name)
	assert.Len(t, data.Evals[0].Data, 10)
	assert.Greater(t, rep.Truncated, 0)
	for _, e := range data.Train {
		assert.LessOrEqual(t, len(e.IDs), 8)
	}

	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "train.tsv"), []byte("sentence\tlabel\ngood film\t1\nbroken\t7\nbad film\t0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "dev.tsv"), []byte("sentence\tlabel\nfine\t1\n"), 0o644))
	sst, err := TaskByName("sst-2")
	require.NoError(t, err)
	_, _, err = LoadTrainData(sst, bad, hashTokenizer(), DataOptions{MaxLen: 8})
	require.ErrorContains(t, err, "train.tsv:3: unknown label")
	data, rep, err = LoadTrainData(sst, bad, hashTokenizer(), DataOptions{MaxLen: 8, Policy: SkipBadRows})
	require.NoError(t, err)
	assert.Len(t, data.Train, 2)
	require.Len(t, rep.Skipped, 1)
	assert.Contains(t, rep.String(), "skipped 1 malformed rows")
	assert.Contains(t, rep.String(), "train.tsv:3")
	assert.True(t, strings.HasSuffix(rep.Skipped[0].File, "train.tsv"))

	_, _, err = LoadTrainData(sst, t.TempDir(), hashTokenizer(), DataOptions{MaxLen: 8})
	require.ErrorContains(t, err, "no sst-2 data")
}
