package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/glue"
)

// writeConfig writes a -config file into a fresh folder.
func writeConfig(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// -config sets the flags by their PEFT / HF names, a flag on the command line wins over the file, and the
// settings reach the runner's config (targets, regex, rsLoRA, warmup from warmup_ratio as HF: ceil(ratio·total)).
func TestConfigFile(t *testing.T) {
	yml := writeConfig(t, "c.yaml", "learning_rate: 3e-4\nlora_r: 16\nlora_alpha: 32\nloraplus_lr_ratio: 8\n"+
		"target_modules: all-linear\nuse_rslora: true\nnum_train_epochs: 2\nper_device_train_batch_size: 4\n"+
		"gradient_accumulation_steps: 2\nwarmup_ratio: 0.1\nlr_scheduler_type: cosine\nseed: 7\noutput_dir: out/x\n"+
		"adam_beta2: 0.999\nadam_epsilon: 1e-6\nmax_grad_norm: 0.5\nweight_decay: 0.01\n")
	jsn := writeConfig(t, "c.json", `{"target_modules": ".*\\.c_(attn|fc)", "max_steps": 30, "warmup_steps": 3, "warmup_ratio": 0.5}`)
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o *options, c glue.TrainConfig)
	}{
		{"yaml", []string{"-config", yml}, func(t *testing.T, o *options, c glue.TrainConfig) {
			assert.Equal(t, []any{3e-4, 16, 32.0, 8.0, true}, []any{c.Optim.LR, c.LoRA.Rank, c.LoRA.Alpha, c.Optim.Ratio, c.LoRA.RSLoRA})
			assert.Equal(t, []string{"all-linear"}, c.LoRA.Targets)
			assert.Equal(t, []any{2, 4, 2, "cosine", uint64(7), "out/x"}, []any{c.Epochs, c.BatchSize, c.GradAccum, c.Schedule, c.Seed, o.out})
			assert.Equal(t, []any{0.999, 1e-6, 0.5, 0.01}, []any{c.Optim.Beta2, c.Optim.Eps, c.ClipNorm, c.Optim.WeightDecay})
			// 100 examples, 8 a step: 13 steps an epoch, 26 in all; ceil(0.1 · 26) = 3
			assert.Equal(t, 3, c.Warmup)
		}},
		{"command line wins", []string{"-config", yml, "-r", "4", "-lr", "1e-3", "-targets", "c_attn", "-warmup", "5", "-out", "o2"},
			func(t *testing.T, o *options, c glue.TrainConfig) {
				assert.Equal(t, []any{1e-3, 4, 32.0}, []any{c.Optim.LR, c.LoRA.Rank, c.LoRA.Alpha})
				assert.Equal(t, []string{"c_attn"}, c.LoRA.Targets)
				assert.Equal(t, 5, c.Warmup, "warmup steps win over warmup_ratio, as HF")
				assert.Equal(t, "o2", o.out)
			}},
		{"json, regex, max_steps", []string{"-config", jsn}, func(t *testing.T, o *options, c glue.TrainConfig) {
			assert.Empty(t, c.LoRA.Targets, "a regex replaces the model type's default targets")
			assert.Equal(t, `.*\.c_(attn|fc)`, c.LoRA.TargetRegex)
			assert.Equal(t, []any{30, 3}, []any{c.MaxSteps, c.Warmup})
		}},
		{"flags", []string{"-target-regex", `h\.\d+\.attn\.c_attn`, "-rslora", "-warmup-ratio", "0.25", "-max-steps", "10"},
			func(t *testing.T, o *options, c glue.TrainConfig) {
				assert.Equal(t, `h\.\d+\.attn\.c_attn`, c.LoRA.TargetRegex)
				assert.True(t, c.LoRA.RSLoRA)
				assert.Equal(t, 3, c.Warmup, "ceil(0.25 · 10)")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			require.NoError(t, err)
			s := &session{o: o, kind: modelKinds["gpt2"], lr: o.lr, targets: o.targets,
				data: glue.TrainData{Train: make([]glue.Encoded, 100)}}
			if s.targets == nil && o.targetRegex == "" {
				s.targets = s.kind.targets
			}
			tc.check(t, o, s.config(o.lr, o.ratio, o.out, ""))
		})
	}
}

// Errors about a value from -config name the file, line and key.
func TestConfigFileErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"lora_r: 0\n", "-r must be > 0, got 0 (set by PATH:1: lora_r: 0)"},
		{"seed: 1\nlr_scheduler_type: exp\n", `-schedule: unknown schedule "exp"`},
		{"learning_rate: 1e-4\nlearning_rte: 1\n", `-config: PATH:2: unknown key "learning_rte"`},
		{"lora_dropout: [0.1]\n", "-config: PATH:1: lora_dropout: want a number, got a list"},
		{"warmup_ratio: 2\n", "-warmup-ratio must be in [0, 1], got 2 (set by PATH:1: warmup_ratio: 2)"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			p := writeConfig(t, "c.yaml", tc.text)
			_, err := parseFlags([]string{"-config", p}, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tc.want, "PATH", p))
		})
	}
	_, err := parseFlags([]string{"-config", "/nonexistent/c.yaml"}, io.Discard)
	assert.ErrorContains(t, err, "-config: open /nonexistent/c.yaml")
}
