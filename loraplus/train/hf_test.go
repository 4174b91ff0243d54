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

// hfConfig trains the toy task 16 steps (8 an epoch) with a log line every 3 steps, an evaluation every 6 and a
// checkpoint every 4, keeping all.
func hfConfig(out string) Config {
	c := toyConfig(out)
	c.LogEvery, c.EvalEvery, c.SaveEvery, c.ClipNorm = 3, 6, 4, 0.5
	return c
}

// TestTrainerStateReadByTransformers trains the toy task and reads the last checkpoint's trainer_state.json with
// transformers' TrainerState (scripts/reference/trainer_state.py): every Hugging Face key is there with
// Trainer's types (a float epoch, also in log_history), log_history holds log.jsonl's and history.jsonl's
// entries in Trainer's order and form, and the only keys TrainerState does not know are loraplus's own.
func TestTrainerStateReadByTransformers(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	k := newToyTask(60, 3)
	s := newToySession(t, k, toyEval{k}, hfConfig(out), 0)
	_, err := s.Run(context.Background())
	require.NoError(t, err)

	var got struct {
		ExtraKeys   []string            `json:"extra_keys"`
		DirectError *string             `json:"direct_error"`
		Types       map[string]string   `json:"types"`
		LogTypes    []map[string]string `json:"log_types"`
		State       struct {
			GlobalStep     int              `json:"global_step"`
			Epoch          float64          `json:"epoch"`
			MaxSteps       int              `json:"max_steps"`
			LoggingSteps   int              `json:"logging_steps"`
			EvalSteps      int              `json:"eval_steps"`
			SaveSteps      int              `json:"save_steps"`
			TrainBatchSize int              `json:"train_batch_size"`
			NumTrainEpochs int              `json:"num_train_epochs"`
			BestMetric     float64          `json:"best_metric"`
			BestStep       int              `json:"best_global_step"`
			BestCheckpoint string           `json:"best_model_checkpoint"`
			LogHistory     []map[string]any `json:"log_history"`
		} `json:"state"`
	}
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "trainer_state.py", filepath.Join(CheckpointDir(out, 16), StateFile))), &got))
	assert.Equal(t, []string{"best", "config", "epoch_step", "last_loss", "log_loss_steps", "log_loss_sum", "loss_steps",
		"loss_sum", "metrics", "rng_state", "run_loss_steps", "run_loss_sum", "steps_per_epoch", "total_steps"}, got.ExtraKeys)
	require.NotNil(t, got.DirectError, "TrainerState refuses loraplus's own keys")
	assert.Contains(t, *got.DirectError, "unexpected keyword argument")
	assert.Equal(t, map[string]string{"global_step": "int", "epoch": "float", "max_steps": "int", "logging_steps": "int",
		"eval_steps": "int", "save_steps": "int", "train_batch_size": "int", "num_train_epochs": "int",
		"best_metric": "float", "best_global_step": "int", "best_model_checkpoint": "str", "log_history": "list"}, got.Types)

	st := got.State
	best := s.State().Best
	require.NotNil(t, best)
	assert.Equal(t, []any{16, 2.0, 16, 3, 6, 4, 8, 2}, []any{st.GlobalStep, st.Epoch, st.MaxSteps, st.LoggingSteps,
		st.EvalSteps, st.SaveSteps, st.TrainBatchSize, st.NumTrainEpochs})
	assert.Equal(t, []any{best.Value, best.Step, CheckpointDir(out, best.Step)}, []any{st.BestMetric, st.BestStep, st.BestCheckpoint})

	logs, err := ReadLog(filepath.Join(out, LogFile))
	require.NoError(t, err)
	hist, err := ReadHistory(filepath.Join(out, HistoryFile))
	require.NoError(t, err)
	train := func(i int) map[string]any {
		e := logs[i]
		return map[string]any{"loss": e.Loss, "grad_norm": *e.GradNorm, "learning_rate": e.LR["A"], "epoch": e.Epoch, "step": float64(e.Step)}
	}
	eval := func(i int) map[string]any {
		e := hist[i]
		return map[string]any{"eval_neg_mse": e.Metrics["neg_mse"], "epoch": e.Epoch, "step": float64(e.Step)}
	}
	require.Len(t, logs, 5)
	require.Len(t, hist, 3)
	want := []map[string]any{train(0), train(1), eval(0), train(2), train(3), eval(1), train(4), eval(2)} // steps 3 6 6 9 12 12 15 16
	assert.Equal(t, want, st.LogHistory)
	trainTypes := map[string]string{"loss": "float", "grad_norm": "float", "learning_rate": "float", "epoch": "float", "step": "int"}
	evalTypes := map[string]string{"eval_neg_mse": "float", "epoch": "float", "step": "int"}
	assert.Equal(t, []map[string]string{trainTypes, trainTypes, evalTypes, trainTypes, trainTypes, evalTypes, trainTypes, evalTypes}, got.LogTypes)

	// An earlier checkpoint's log_history stops at its step.
	early, err := ReadState(CheckpointDir(out, 8))
	require.NoError(t, err)
	require.Len(t, early.LogHistory, 3, "steps 3, 6, 6")
	assert.Equal(t, []any{1, 0}, []any{early.Epoch, early.EpochStep}, "step 8 of 8 an epoch: epoch 1.0")
	require.Equal(t, 6, early.Best.Step, "the only evaluation")
	assert.Nil(t, early.BestModelCheckpoint, "no checkpoint at step 6")
	mid, err := ReadState(CheckpointDir(out, 12))
	require.NoError(t, err)
	require.Equal(t, 12, mid.Best.Step, "the toy's error falls")
	require.NotNil(t, mid.BestModelCheckpoint)
	assert.Equal(t, CheckpointDir(out, 12), *mid.BestModelCheckpoint)
}

// TestStateFileFormats reads trainer_state.json as this package writes it and as it wrote it before the Hugging
// Face keys (an integer epoch, the best metric as an object under "best_metric"), and round-trips a state.
func TestStateFileFormats(t *testing.T) {
	best := &BestMetric{Name: "acc", Value: 0.75, Step: 8}
	for _, tc := range []struct {
		name, json string
		want       State
	}{
		{"before the Hugging Face keys", `{"global_step": 12, "epoch": 1, "epoch_step": 4, "total_steps": 24,
			"steps_per_epoch": 8, "best_metric": {"name": "acc", "value": 0.75, "step": 8}, "config": {"seed": "1"}}`,
			State{Step: 12, Epoch: 1, EpochStep: 4, TotalSteps: 24, StepsPerEpoch: 8, Best: best, Config: map[string]string{"seed": "1"}}},
		{"with them", `{"global_step": 12, "epoch": 1.5, "epoch_step": 4, "total_steps": 24, "steps_per_epoch": 8,
			"best": {"name": "acc", "value": 0.75, "step": 8}, "best_metric": 0.75, "best_global_step": 8, "max_steps": 24}`,
			State{Step: 12, Epoch: 1, EpochStep: 4, TotalSteps: 24, StepsPerEpoch: 8, Best: best, HFState: HFState{MaxSteps: 24}}},
		{"no best metric", `{"global_step": 8, "epoch": 1.0, "steps_per_epoch": 8, "best_metric": null, "best": null}`,
			State{Step: 8, Epoch: 1, StepsPerEpoch: 8}},
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, StateFile), []byte(tc.json), 0o644))
		got, err := ReadState(dir)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)

		require.NoError(t, WriteJSON(filepath.Join(dir, StateFile), got), tc.name)
		again, err := ReadState(dir)
		require.NoError(t, err, tc.name)
		assert.Equal(t, got, again, "%s: round trip", tc.name)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"epoch": -1}`), 0o644))
	_, err := ReadState(dir)
	assert.ErrorContains(t, err, "train: resume: "+filepath.Join(dir, StateFile)+": epoch -1 is not a count of epochs")
}

// TestResumeFromOldStateFile resumes from a checkpoint whose trainer_state.json is in the form written before the
// Hugging Face keys and ends as a straight run does.
func TestResumeFromOldStateFile(t *testing.T) {
	runtime.LockOSThread()
	run := func(c Config, stopAt int) {
		k := newToyTask(60, 3)
		var s *Session
		if stopAt > 0 {
			c.OnStep = func(step int, _ float64) {
				if step == stopAt {
					s.Stop()
				}
			}
		}
		s = newToySession(t, k, toyEval{k}, c, 0.1)
		_, err := s.Run(context.Background())
		if stopAt > 0 {
			require.ErrorIs(t, err, ErrInterrupted)
		} else {
			require.NoError(t, err)
		}
	}
	straight := t.TempDir()
	run(hfConfig(straight), 0)

	out := t.TempDir()
	run(hfConfig(out), 10)
	path := filepath.Join(CheckpointDir(out, 10), StateFile)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	require.NotNil(t, m["best"])
	m["best_metric"], m["epoch"] = m["best"], 1 // step 10 of 8 an epoch
	for _, k := range []string{"best", "best_global_step", "log_history", "max_steps", "logging_steps", "eval_steps",
		"save_steps", "train_batch_size", "num_train_epochs", "best_model_checkpoint"} {
		delete(m, k)
	}
	require.NoError(t, WriteJSON(path, m))

	c := hfConfig(out)
	c.Resume = "latest"
	run(c, 0)
	for _, name := range []string{MetricsFile, HistoryFile, LogFile} {
		assert.Equal(t, runFile(t, straight, name), runFile(t, out, name), name)
	}
	a, err := os.ReadFile(filepath.Join(CheckpointDir(straight, 16), StateFile))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(CheckpointDir(out, 16), StateFile))
	require.NoError(t, err)
	var sa, sb State
	require.NoError(t, json.Unmarshal(a, &sa))
	require.NoError(t, json.Unmarshal(b, &sb))
	for i := range sa.LogHistory { // the same history but for the output folder
		assert.Equal(t, sa.LogHistory[i], sb.LogHistory[i])
	}
	assert.Equal(t, sa.Best, sb.Best)
}

// TestEvalNames checks the names an evaluation's metric takes in log_history and in TensorBoard, as Trainer
// gives them: GLUE's metrics are already named "eval_..." (as run_glue.py writes them).
func TestEvalNames(t *testing.T) {
	for _, tc := range []struct{ metric, hf, tb string }{
		{"neg_mse", "eval_neg_mse", "eval/neg_mse"},
		{"eval_accuracy", "eval_accuracy", "eval/accuracy"},
		{"eval_accuracy_mm", "eval_accuracy_mm", "eval/accuracy_mm"},
		{"mnli-m/acc", "eval_mnli-m/acc", "eval/mnli-m/acc"},
	} {
		assert.Equal(t, tc.hf, hfEvalKey(tc.metric), tc.metric)
		assert.Equal(t, tc.tb, tbEvalTag(tc.metric), tc.metric)
	}
}
