package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// tinyGPT2 writes a tiny random GPT-2 classifier (real vocabulary size) with the Python reference stack and
// returns its directory and the GPT-2 tokenizer directory.
func tinyGPT2(t *testing.T) (model, tok string) { return tinyModel(t, "gpt2") }

// tinyModel writes a tiny random classifier of arch ("gpt2" or "roberta") and returns its directory and the
// directory of the real tokenizer of that architecture.
func tinyModel(t *testing.T, arch string) (model, tok string) {
	t.Helper()
	tok = filepath.Join(reftest.Root(t), ".cache", "tokenizers", arch)
	_, err := os.Stat(filepath.Join(tok, "vocab.json"))
	require.NoError(t, err, "the %s tokenizer files are missing: run `make test` (scripts/fetch-tokenizers.sh builds %s)", arch, tok)
	model = t.TempDir()
	reftest.Run(t, "gluecmd_tiny.py", arch, model)
	return model, tok
}

func mnliDir(t *testing.T) string { return reftest.Shared(t, "glue", "MNLI-16shot") }

// quick are the flags of a few-second run on the tiny model.
func quick(model, tok, data, out string, extra ...string) []string {
	return append([]string{"-task", "mnli", "-model", model, "-tokenizer", tok, "-data", data, "-out", out,
		"-device", "cpu", "-batch", "4", "-max-len", "32", "-pad-longest", "-limit-train", "16", "-limit-eval", "8",
		"-eval-every", "2", "-save-every", "2"}, extra...)
}

func TestEndToEnd(t *testing.T) {
	runtime.LockOSThread()
	model, tok := tinyGPT2(t)
	data := mnliDir(t)

	t.Run("train, interrupt by signal, resume", func(t *testing.T) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out, "-max-steps", "4"), &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "LoRA+ plan (lr_A 0.0002, ratio 16, lr_B 0.0032)")
		assert.Contains(t, stdout.String(), "transformer.h.0.attn.c_attn.lora_B.weight")
		assert.Contains(t, stdout.String(), "score.weight")
		var res train.Result
		js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &res))
		assert.Equal(t, 4, res.Step)
		assert.Contains(t, res.Metrics, "eval_accuracy")
		var peft map[string]any
		js, err = os.ReadFile(filepath.Join(out, "checkpoint-4", "adapter_config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &peft))
		assert.Equal(t, []any{"score"}, peft["modules_to_save"])
		assert.Equal(t, "SEQ_CLS", peft["task_type"])

		// A signal before the run starts: the trainer stops before its first step and checkpoints.
		out2 := t.TempDir()
		o, err := parseFlags(quick(model, tok, data, out2, "-max-steps", "4"), &stderr)
		require.NoError(t, err)
		s, err := newSession(o, &stdout, &stderr)
		require.NoError(t, err)
		st := cli.NewStopper("glue", &stderr)
		defer st.Close()
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
		require.Eventually(t, st.Signalled, 5*time.Second, 10*time.Millisecond)
		_, err = s.train(st, s.lr, o.ratio, out2, "", false)
		require.ErrorIs(t, err, train.ErrInterrupted)
		assert.DirExists(t, filepath.Join(out2, "checkpoint-0"))

		stderr.Reset()
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out2, "-max-steps", "4", "-resume", "latest"), &stdout, &stderr), stderr.String())
		js, err = os.ReadFile(filepath.Join(out2, train.MetricsFile))
		require.NoError(t, err)
		var res2 train.Result
		require.NoError(t, json.Unmarshal(js, &res2))
		assert.Equal(t, res.Metrics, res2.Metrics, "a run stopped at step 0 and resumed ends as the straight run")
	})

	t.Run("bad rows", func(t *testing.T) {
		bad := t.TempDir()
		src, err := os.ReadFile(filepath.Join(data, "train.tsv"))
		require.NoError(t, err)
		lines := strings.SplitAfter(string(src), "\n")
		lines[3] = "broken row\n"
		require.NoError(t, os.WriteFile(filepath.Join(bad, "train.tsv"), []byte(strings.Join(lines, "")), 0o644))
		dev, err := os.ReadFile(filepath.Join(data, "dev_matched.tsv"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(bad, "dev_matched.tsv"), dev, 0o644))
		var stdout, stderr bytes.Buffer
		assert.Equal(t, cli.ExitError, run(quick(model, tok, bad, t.TempDir(), "-max-steps", "1"), &stdout, &stderr))
		assert.Contains(t, stderr.String(), "train.tsv:4: got 1 tab-separated fields")
		stdout.Reset()
		assert.Equal(t, cli.ExitOK, run(quick(model, tok, bad, t.TempDir(), "-max-steps", "1", "-bad-rows", "skip"), &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "skipped 1 malformed rows")
		assert.Contains(t, stdout.String(), "train.tsv:4")
	})

	t.Run("gradient accumulation", func(t *testing.T) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out, "-batch", "2", "-grad-accum", "2", "-epochs", "1"), &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "training 4 steps (16 examples, batch 2 × 2 accumulated)", "steps of 4 examples")
		st, err := train.ReadState(filepath.Join(out, "checkpoint-4"))
		require.NoError(t, err)
		assert.Equal(t, "2", st.Config["grad_accum"])
		assert.Equal(t, "2", st.Config["batch_size"])
	})

	t.Run("roberta", func(t *testing.T) {
		rmodel, rtok := tinyModel(t, "roberta")
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		// RoBERTa's classifier.dense stays frozen by default, as in the authors' run_glue.py.
		args := quick(rmodel, rtok, data, out, "-max-steps", "2")
		require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
		assert.Contains(t, stdout.String(), "LoRA+ plan (lr_A 5e-05, ratio 16, lr_B 0.0008)")
		assert.Contains(t, stdout.String(), "attention.self.value.lora_B.weight")
		assert.NotContains(t, stdout.String(), "classifier.dense.weight")
		var peft map[string]any
		js, err := os.ReadFile(filepath.Join(out, "checkpoint-2", "adapter_config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &peft))
		assert.Equal(t, []any{"classifier.out_proj"}, peft["modules_to_save"])
		assert.ElementsMatch(t, []any{"query", "value"}, peft["target_modules"])
	})

	t.Run("sts-b regression", func(t *testing.T) {
		// The head gets one output (num_labels 1), trained with the mean squared error; the metrics are those of
		// run_glue.py for STS-B.
		out, rmodel := t.TempDir(), t.TempDir()
		reftest.Run(t, "gluecmd_tiny.py", "gpt2", rmodel, "1")
		stsb := filepath.Join("..", "..", "glue", "testdata", "glue")
		var stdout, stderr bytes.Buffer
		args := append(quick(rmodel, tok, stsb, out, "-max-steps", "2"), "-task", "stsb")
		require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
		var res train.Result
		js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &res))
		assert.ElementsMatch(t, []string{"eval_pearson", "eval_spearmanr", "eval_combined_score"}, slices.Collect(maps.Keys(res.Metrics)))
		require.NotNil(t, res.Best)
		assert.Equal(t, "eval_pearson", res.Best.Name)
		tensors, _, err := weights.ReadSafetensors(filepath.Join(out, "checkpoint-2", "adapter_model.safetensors"))
		require.NoError(t, err)
		var heads []string
		for name, x := range tensors {
			if strings.Contains(name, "score") {
				heads = append(heads, name)
				assert.Equal(t, []int64{1, 16}, x.MustSize(), "%s: one output", name)
			}
			x.MustDrop()
		}
		assert.NotEmpty(t, heads)
	})

	t.Run("sweep and compare", func(t *testing.T) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out, "-max-steps", "2", "-sweep", "1e-4,1e-3:1e-3"), &stdout, &stderr), stderr.String())
		assert.FileExists(t, filepath.Join(out, "sweep", "heatmap.png"))
		js, err := os.ReadFile(filepath.Join(out, "sweep", "sweep.json"))
		require.NoError(t, err)
		var sw sweepResult
		require.NoError(t, json.Unmarshal(js, &sw))
		require.Len(t, sw.Cells, 2)
		assert.InDelta(t, 10.0, sw.Cells[0].Ratio, 1e-9)
		assert.GreaterOrEqual(t, sw.Cells[1].Final, 0.0)

		require.Equal(t, cli.ExitOK, run(quick(model, tok, data, out, "-max-steps", "2", "-compare"), &stdout, &stderr), stderr.String())
		assert.FileExists(t, filepath.Join(out, "compare", "compare.png"))
		cmp := readCompare(t, out)
		require.Len(t, cmp.Arms, 2)
		assert.Equal(t, []float64{1, 16}, []float64{cmp.Arms[0].Ratio, cmp.Arms[1].Ratio})
		assert.Equal(t, cmp.Arms[0].LRA, cmp.Arms[1].LRA, "without -lora-lr both arms share lr_A")
		assert.Equal(t, []int{2}, cmp.Arms[1].Runs[0].Steps)
		assert.Equal(t, filepath.Join(out, "compare", "ratio-16"), cmp.Arms[1].Runs[0].Out, "one seed keeps the single-run layout")
	})

	t.Run("compare with seeds and LoRA's own lr", func(t *testing.T) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		args := quick(model, tok, data, out, "-max-steps", "2", "-eval-every", "1", "-compare", "-seeds", "3,5", "-lora-lr", "2e-3", "-lr", "1e-4")
		require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
		cmp := readCompare(t, out)
		assert.Equal(t, []uint64{3, 5}, cmp.Seeds)
		lora, plus := cmp.Arms[0], cmp.Arms[1]
		assert.Equal(t, [3]float64{2e-3, 2e-3, 1}, [3]float64{lora.LRA, lora.LRB, lora.Ratio})
		assert.InDeltaSlice(t, []float64{1e-4, 1.6e-3}, []float64{plus.LRA, plus.LRB}, 1e-12)
		for _, a := range cmp.Arms {
			require.Len(t, a.Runs, 2)
			assert.Equal(t, []int{1, 2}, a.Steps)
			for i, seed := range []uint64{3, 5} {
				assert.Equal(t, seed, a.Runs[i].Seed)
				assert.Equal(t, filepath.Join(out, "compare", fmt.Sprintf("ratio-%g", a.Ratio), fmt.Sprintf("seed-%d", seed)), a.Runs[i].Out)
				assert.FileExists(t, filepath.Join(a.Runs[i].Out, train.MetricsFile))
			}
			assert.NotEqual(t, a.Runs[0].Result.TrainLoss, a.Runs[1].Result.TrainLoss, "each seed trains its own run")
			m, sd := meanStd([]float64{a.Runs[0].Metrics[1], a.Runs[1].Metrics[1]})
			assert.InDelta(t, m, a.Mean[1], 1e-12)
			assert.InDelta(t, sd, a.Std[1], 1e-12)
		}
		assert.InDelta(t, plus.Mean[1]-lora.Mean[1], cmp.Difference, 1e-12)
		assert.Contains(t, stdout.String(), "difference LoRA+ (ratio 16) − LoRA:")
		assert.Contains(t, stdout.String(), "seed 5")

		stdout.Reset()
		require.Equal(t, cli.ExitOK, run(append(args, "-resume", "latest"), &stdout, &stderr), stderr.String())
		again := readCompare(t, out)
		for i, a := range cmp.Arms {
			assert.Equal(t, [3]any{a.Steps, a.Mean, a.Std}, [3]any{again.Arms[i].Steps, again.Arms[i].Mean, again.Arms[i].Std},
				"-resume latest reads the finished runs back")
		}
		assert.Equal(t, 4, strings.Count(stdout.String(), "resumed at step 2 "), "finished runs are only read back")
	})
}

// readCompare reads OUT/compare/compare.json.
func readCompare(t *testing.T, out string) compareResult {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(out, "compare", "compare.json"))
	require.NoError(t, err)
	var cmp compareResult
	require.NoError(t, json.Unmarshal(js, &cmp))
	return cmp
}
