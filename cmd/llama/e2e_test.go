package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/llama/instruct"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

func quick(model, tok, data, out string, extra ...string) []string {
	return append([]string{"-data", data, "-ratio", "16", "-model", model, "-tokenizer", tok, "-out", out,
		"-device", "cpu", "-batch", "4", "-max-len", "48", "-max-steps", "3", "-save-every", "1"}, extra...)
}

func readResult(t *testing.T, out string) train.Result {
	t.Helper()
	var res train.Result
	js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &res))
	return res
}

func readAdapter(t *testing.T, dir string) map[string][]float64 {
	t.Helper()
	tensors, _, err := weights.ReadSafetensors(filepath.Join(dir, loraplus.AdapterWeightsFile))
	require.NoError(t, err)
	out := map[string][]float64{}
	for k, v := range tensors {
		out[k] = v.Float64Values(true)
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	runtime.LockOSThread()
	model, tok := reftest.TinyLlama(t)
	data := filepath.Join(reftest.Root(t), "llama", "instruct", "testdata", "instruct_sample.jsonl")

	t.Run("defaults", func(t *testing.T) {
		var stderr bytes.Buffer
		o, err := parseFlags([]string{"-data", data, "-model", model}, &stderr)
		require.NoError(t, err)
		c := o.cfg
		assert.Equal(t, 64, c.LoRA.Rank)
		assert.Equal(t, 16.0, c.LoRA.Alpha)
		assert.Equal(t, 0.05, c.LoRA.Dropout)
		assert.Equal(t, instruct.Targets, c.LoRA.Targets)
		assert.Equal(t, "constant", c.Schedule)
		assert.Equal(t, 1, c.Epochs)
		assert.Equal(t, 512, c.MaxLen)
		assert.Equal(t, 2e-4, c.Optim.LR)
		assert.Equal(t, 16.0, c.Optim.Ratio)
		assert.Equal(t, 0.999, c.Optim.Beta2)
		for _, bad := range [][]string{{"-model", model}, {"-data", data, "-model", model, "-bad-rows", "maybe"},
			{"-data", data, "-model", model, "-max-len", "1"}, {"-data", data, "-model", model, "-schedule", "zigzag"}} {
			_, err := parseFlags(bad, &stderr)
			assert.Error(t, err, "%v", bad)
		}
	})

	t.Run("train, interrupt by signal, resume", func(t *testing.T) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out), &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "LoRA+ plan (lr_A 0.0002, ratio 16, lr_B 0.0032)")
		assert.Contains(t, stdout.String(), "model.layers.1.mlp.down_proj.lora_B.weight")
		assert.Contains(t, stderr.String(), "train 100%")
		res := readResult(t, out)
		assert.Equal(t, 3, res.Step)
		assert.Greater(t, res.TrainLoss, 0.0)
		var peft map[string]any
		js, err := os.ReadFile(filepath.Join(out, "checkpoint-3", "adapter_config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &peft))
		assert.Equal(t, "CAUSAL_LM", peft["task_type"])
		assert.Equal(t, 64.0, peft["r"])
		assert.Equal(t, 16.0, peft["lora_alpha"])
		assert.Equal(t, 0.05, peft["lora_dropout"])
		assert.Len(t, peft["target_modules"], 7)
		assert.NoDirExists(t, filepath.Join(out, "checkpoint-1"), "-keep 2")
		assert.FileExists(t, filepath.Join(out, "checkpoint-3", train.OptimizerFile))

		// A signal before the run starts: the trainer stops before its first step and checkpoints.
		out2 := t.TempDir()
		o, err := parseFlags(quick(model, tok, data, out2), &stderr)
		require.NoError(t, err)
		st := cli.NewStopper("llama", &stderr)
		defer st.Close()
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
		require.Eventually(t, st.Signalled, 5*time.Second, 10*time.Millisecond)
		_, err = finetune(o, st, &stdout, &stderr)
		require.ErrorIs(t, err, train.ErrInterrupted)
		assert.DirExists(t, filepath.Join(out2, "checkpoint-0"))

		// Resume runs the remaining steps and ends as the straight run.
		stdout.Reset()
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out2, "-resume", "latest"), &stdout, &stderr), stderr.String())
		res2 := readResult(t, out2)
		assert.InDelta(t, res.LastLoss, res2.LastLoss, 1e-5)
		a, b := readAdapter(t, filepath.Join(out, "checkpoint-3")), readAdapter(t, filepath.Join(out2, "checkpoint-3"))
		require.Equal(t, len(a), len(b))
		for k, v := range a {
			require.Len(t, b[k], len(v), k)
			for i := range v {
				require.InDelta(t, v[i], b[k][i], 1e-6, "%s[%d]: the resumed run ends as the straight run", k, i)
			}
		}

		// A resume from the middle (checkpoint-2 of the straight run) too.
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out, "-resume", filepath.Join(out, "checkpoint-2")), &stdout, &stderr), stderr.String())
		assert.InDelta(t, res.LastLoss, readResult(t, out).LastLoss, 1e-5)

		// Two accumulated batches of 2 give the steps of one batch of 4 (without dropout, whose masks are drawn
		// per batch): the loss is a mean over the step's target tokens either way.
		acc1, acc2 := t.TempDir(), t.TempDir()
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, acc1, "-dropout", "0"), &stdout, &stderr), stderr.String())
		stdout.Reset()
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, acc2, "-dropout", "0", "-batch", "2", "-grad-accum", "2"), &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "batch 2 × 2 accumulated")
		assert.InDelta(t, readResult(t, acc1).TrainLoss, readResult(t, acc2).TrainLoss, 1e-5)
		a, b = readAdapter(t, filepath.Join(acc1, "checkpoint-3")), readAdapter(t, filepath.Join(acc2, "checkpoint-3"))
		for k, v := range a {
			for i := range v {
				require.InDelta(t, v[i], b[k][i], 1e-5, "%s[%d]: batch 2 × 2 accumulated ends as batch 4", k, i)
			}
		}

		// A changed setting is refused on resume.
		assert.Equal(t, cli.ExitError, run(quick(model, tok, data, out2, "-resume", "latest", "-lr", "1e-3"), &stdout, &stderr))
		assert.Contains(t, stderr.String(), `setting "lr"`)
	})

	t.Run("bad rows", func(t *testing.T) {
		src, err := os.ReadFile(data)
		require.NoError(t, err)
		lines := strings.SplitAfter(string(src), "\n")
		lines[2] = "{\"inputs\": 3}\n"
		bad := filepath.Join(t.TempDir(), "bad.jsonl")
		require.NoError(t, os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644))
		var stdout, stderr bytes.Buffer
		assert.Equal(t, cli.ExitError, run(quick(model, tok, bad, t.TempDir(), "-max-steps", "1"), &stdout, &stderr))
		assert.Contains(t, stderr.String(), "bad.jsonl:3: inputs")
		stdout.Reset()
		require.Equal(t, cli.ExitOK, run(quick(model, tok, bad, t.TempDir(), "-max-steps", "1", "-bad-rows", "skip"), &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "skipped 1 malformed rows")
		assert.Contains(t, stdout.String(), "bad.jsonl:3")
	})
}
