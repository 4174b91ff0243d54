package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

func TestLlamaDefaults(t *testing.T) {
	model, _ := reftest.TinyLlama(t)
	tests := []struct {
		name  string
		extra []string
		check func(t *testing.T, o *options)
	}{
		{"paper defaults", nil, func(t *testing.T, o *options) {
			assert.Equal(t, 8, o.rank)
			assert.Equal(t, 16.0, o.alpha)
			assert.Equal(t, 0.1, o.dropout)
			assert.Equal(t, "constant", o.schedule)
			assert.Equal(t, 1, o.epochs)
			assert.Equal(t, 0.999, o.beta2)
			assert.Equal(t, 1e-6, o.eps, "AdamW eps of the paper's Llama runs")
		}},
		{"flags win", []string{"-alpha", "32", "-epochs", "2", "-schedule", "linear", "-beta2", "0.98", "-r", "4", "-eps", "1e-8"}, func(t *testing.T, o *options) {
			assert.Equal(t, 4, o.rank)
			assert.Equal(t, 32.0, o.alpha)
			assert.Equal(t, "linear", o.schedule)
			assert.Equal(t, 2, o.epochs)
			assert.Equal(t, 0.98, o.beta2)
			assert.Equal(t, 1e-8, o.eps)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseFlags(append([]string{"-task", "mnli", "-model", model}, tc.extra...), &stderr)
			require.NoError(t, err)
			tc.check(t, o)
		})
	}
	k, err := detectKind(model)
	require.NoError(t, err)
	assert.Equal(t, "llama", k.name)
	assert.Equal(t, 1e-4, k.lr)
	assert.Equal(t, llamaTargets, k.targets)
}

func TestLlamaEndToEnd(t *testing.T) {
	runtime.LockOSThread()
	model, tok := reftest.TinyLlama(t)
	data := mnliDir(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-task", "mnli", "-ratio", "16", "-model", model, "-tokenizer", tok, "-data", data, "-out", out,
		"-device", "cpu", "-batch", "4", "-max-len", "64", "-pad-longest", "-limit-train", "16", "-limit-eval", "8",
		"-max-steps", "2", "-eval-every", "1", "-save-every", "1"}
	require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "(llama)")
	assert.Contains(t, stdout.String(), "LoRA+ plan (lr_A 0.0001, ratio 16, lr_B 0.0016)")
	for _, name := range []string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"} {
		assert.Contains(t, stdout.String(), "model.layers.1."+name+".lora_B.weight")
	}
	assert.Contains(t, stdout.String(), "score.weight")

	var res train.Result
	js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &res))
	assert.Equal(t, 2, res.Step)
	assert.Contains(t, res.Metrics, "eval_accuracy")

	var peft map[string]any
	js, err = os.ReadFile(filepath.Join(out, "checkpoint-2", "adapter_config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &peft))
	assert.Equal(t, "SEQ_CLS", peft["task_type"])
	assert.Equal(t, []any{"score"}, peft["modules_to_save"])
	assert.Equal(t, 8.0, peft["r"])
	assert.Equal(t, 16.0, peft["lora_alpha"])
	assert.Equal(t, 0.1, peft["lora_dropout"])
	assert.ElementsMatch(t, []any{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, peft["target_modules"])
	st, err := train.ReadState(filepath.Join(out, "checkpoint-2"))
	require.NoError(t, err)
	assert.Equal(t, "constant", st.Config["schedule"])
	assert.Equal(t, "0.9,0.999", st.Config["betas"])
}

// TestLlamaGradCheckpoint trains the tiny Llama with -grad-checkpoint (no dropout, so that both modes see the
// same computation): its loss and accuracy are those of the run without, and a GPT-2 model refuses it.
func TestLlamaGradCheckpoint(t *testing.T) {
	runtime.LockOSThread()
	model, tok := reftest.TinyLlama(t)
	data := mnliDir(t)
	result := func(extra ...string) train.Result {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		args := append([]string{"-task", "mnli", "-model", model, "-tokenizer", tok, "-data", data, "-out", out,
			"-device", "cpu", "-batch", "4", "-max-len", "64", "-pad-longest", "-limit-train", "16", "-limit-eval", "8",
			"-max-steps", "3", "-eval-every", "0", "-save-every", "0", "-dropout", "0"}, extra...)
		require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
		var res train.Result
		js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, &res))
		return res
	}
	full, ckpt := result(), result("-grad-checkpoint")
	assert.InDelta(t, full.TrainLoss, ckpt.TrainLoss, 1e-6*full.TrainLoss)
	assert.Equal(t, full.Metrics, ckpt.Metrics)

	gpt2Model, gpt2Tok := tinyGPT2(t)
	var stdout, stderr bytes.Buffer
	args := quick(gpt2Model, gpt2Tok, data, t.TempDir(), "-max-steps", "1", "-grad-checkpoint")
	require.Equal(t, cli.ExitError, run(args, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "gradient checkpointing: the *gpt2.ForSequenceClassification classifier does not support it (Llama models do)")
}
