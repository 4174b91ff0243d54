package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama/instruct"
)

// -config sets cmd/llama's settings by their PEFT / HF / LLaMA-Factory names; the command line wins; the
// warmup follows HF's warmup_ratio; errors name the file, line and key.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	lf := write("lf.yaml", "lora_rank: 16\nlora_alpha: 32\nlora_target: all\nloraplus_lr_ratio: 4\nlearning_rate: 5e-5\n"+
		"per_device_train_batch_size: 2\ngradient_accumulation_steps: 3\nnum_train_epochs: 2\nwarmup_ratio: 0.1\n"+
		"use_rslora: true\noutput_dir: out/lf\n")
	rx := write("rx.json", `{"target_modules": "model\\.layers\\.\\d+\\.self_attn\\.(q|v)_proj"}`)
	base := []string{"-data", "d.jsonl", "-model", "m"}
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o *options)
	}{
		{"LLaMA-Factory", []string{"-config", lf}, func(t *testing.T, o *options) {
			c := o.cfg
			assert.Equal(t, []any{16, 32.0, 4.0, 5e-5, true}, []any{c.LoRA.Rank, c.LoRA.Alpha, c.Optim.Ratio, c.Optim.LR, c.LoRA.RSLoRA})
			assert.Equal(t, []string{"all-linear"}, c.LoRA.Targets)
			assert.Equal(t, []any{2, 3, 2, "out/lf"}, []any{c.BatchSize, c.GradAccum, c.Epochs, c.Out})
			assert.Equal(t, 2, warmup(o, 50), "50 examples, 6 a step: 9 steps an epoch, 18 in all; ceil(1.8)")
		}},
		{"command line wins", []string{"-config", lf, "-r", "4", "-targets", "q_proj", "-warmup", "7"}, func(t *testing.T, o *options) {
			assert.Equal(t, []any{4, 32.0}, []any{o.cfg.LoRA.Rank, o.cfg.LoRA.Alpha})
			assert.Equal(t, []string{"q_proj"}, o.cfg.LoRA.Targets)
			assert.Equal(t, 7, warmup(o, 50))
		}},
		{"regex replaces the default targets", []string{"-config", rx}, func(t *testing.T, o *options) {
			assert.Empty(t, o.cfg.LoRA.Targets)
			assert.Equal(t, `model\.layers\.\d+\.self_attn\.(q|v)_proj`, o.cfg.LoRA.TargetRegex)
			assert.Equal(t, 0, warmup(o, 50))
		}},
		{"regex and targets", []string{"-target-regex", "x", "-targets", "q_proj"}, func(t *testing.T, o *options) {
			assert.Equal(t, []string{"q_proj"}, o.cfg.LoRA.Targets)
			assert.Equal(t, "x", o.cfg.LoRA.TargetRegex)
		}},
		{"defaults", nil, func(t *testing.T, o *options) {
			assert.Equal(t, instruct.Targets, o.cfg.LoRA.Targets)
			assert.False(t, o.cfg.LoRA.RSLoRA)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(append(append([]string{}, base...), tc.args...), io.Discard)
			require.NoError(t, err)
			tc.check(t, o)
		})
	}
	for _, tc := range []struct{ text, want string }{
		{"lora_dropout: 1\n", "-dropout must be in [0, 1), got 1 (set by PATH:1: lora_dropout: 1)"},
		{"lora_r: 8\nbogus: 1\n", `-config: PATH:2: unknown key "bogus"`},
		{"use_rslora: yes please\n", "-config: PATH:1: use_rslora: want true or false"},
	} {
		p := write("bad.yaml", tc.text)
		_, err := parseFlags(append(append([]string{}, base...), "-config", p), io.Discard)
		require.Error(t, err, tc.text)
		assert.Contains(t, err.Error(), strings.ReplaceAll(tc.want, "PATH", p))
	}
}
