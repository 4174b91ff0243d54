package hfconfig

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testFlags is a flag set with the flags the keys set, all as strings, so that tests see the value each gets.
func testFlags(skip ...string) (*flag.FlagSet, map[string]*string) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	vals := map[string]*string{}
	names := []string{"lr", "r", "alpha", "dropout", "targets", "target-regex", "rslora", "dora", "ratio", "lr-embedding", "epochs",
		"batch", "grad-accum", "warmup-ratio", "warmup", "clip", "weight-decay", "beta1", "beta2", "eps", "schedule",
		"max-steps", "seed", "out"}
	for _, n := range names {
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == n
		}
		if !skipped {
			vals[n] = fs.String(n, "", "")
		}
	}
	return fs, vals
}

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestApplyValues(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             map[string]string
	}{
		{"yaml, PEFT and HF names", "c.yaml", "learning_rate: 2e-4\nlora_r: 16\nlora_alpha: 32\nlora_dropout: 0.05\n" +
			"target_modules: [q_proj, v_proj]\nloraplus_lr_ratio: 16\nloraplus_lr_embedding: 1e-6\nnum_train_epochs: 3.0\n" +
			"per_device_train_batch_size: 8\ngradient_accumulation_steps: 4\nwarmup_ratio: 0.1\nmax_grad_norm: 1.0\n" +
			"weight_decay: 0.01\nadam_beta1: 0.9\nadam_beta2: 0.999\nadam_epsilon: 1e-8\nlr_scheduler_type: cosine\n" +
			"max_steps: -1\nseed: 7\noutput_dir: out/x\nuse_rslora: true\nuse_dora: true\n",
			map[string]string{"lr": "0.0002", "r": "16", "alpha": "32", "dropout": "0.05", "targets": "q_proj,v_proj",
				"ratio": "16", "lr-embedding": "1e-06", "epochs": "3", "batch": "8", "grad-accum": "4", "warmup-ratio": "0.1",
				"clip": "1", "weight-decay": "0.01", "beta1": "0.9", "beta2": "0.999", "eps": "1e-08", "schedule": "cosine",
				"max-steps": "0", "seed": "7", "out": "out/x", "rslora": "true", "dora": "true"}},
		{"json", "c.json", `{"r": 4, "target_modules": "all-linear", "warmup_steps": 10, "max_steps": 50}`,
			map[string]string{"r": "4", "targets": "all-linear", "warmup": "10", "max-steps": "50"}},
		{"regex string", "c.yaml", `target_modules: '.*\.(q|v)_proj'`, map[string]string{"target-regex": `.*\.(q|v)_proj`}},
		{"all-linear any case", "c.yaml", "target_modules: ALL-LINEAR", map[string]string{"targets": "all-linear"}},
		{"LLaMA-Factory names", "c.yaml", "lora_rank: 8\nlora_target: all\n", map[string]string{"r": "8", "targets": "all-linear"}},
		{"LLaMA-Factory list", "c.yaml", "lora_target: q_proj,v_proj\n", map[string]string{"targets": "q_proj,v_proj"}},
		{"empty file", "c.yaml", "", map[string]string{}},
		{"HF's constant_with_warmup", "c.yaml", "lr_scheduler_type: constant_with_warmup\nwarmup_steps: 3\n",
			map[string]string{"schedule": "constant", "warmup": "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, vals := testFlags()
			a, err := Apply(fs, write(t, tc.file, tc.text), nil)
			require.NoError(t, err)
			for n, v := range vals {
				assert.Equal(t, tc.want[n], *v, "-%s", n)
				assert.Equal(t, tc.want[n] != "", a.Set(n), "-%s set by the file", n)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		skip       []string
		want       string // after "PATH:"
	}{
		{"unknown key", "lora_r: 8\nlearning_rat: 1e-4\n", nil, `2: unknown key "learning_rat" (known keys: adam_beta1,`},
		{"string for a number", "learning_rate: fast\n", nil, `1: learning_rate: want a number, got "fast"`},
		{"fraction for an integer", "lora_r: 8.5\n", nil, "1: lora_r: want an integer, got 8.5"},
		{"list for an integer", "seed: [1, 2]\n", nil, "1: seed: want an integer, got a list"},
		{"number for a bool", "use_rslora: 1\n", nil, `1: use_rslora: want true or false, got "1"`},
		{"number for a string", "lr_scheduler_type: 3\n", nil, "1: lr_scheduler_type: want a string, got 3"},
		{"bad target list", "\n\ntarget_modules: [q_proj, [v]]\n", nil, "3: target_modules: list item 2: want module names, got a list"},
		{"empty target list", "target_modules: []\n", nil, "1: target_modules: empty list"},
		{"two keys, one setting", "r: 8\nlora_r: 16\n", nil, "2: lora_r: sets -r, already set by r"},
		{"setting the command lacks", "loraplus_lr_embedding: 1e-6\n", []string{"lr-embedding"},
			"1: loraplus_lr_embedding: this command has no -lr-embedding setting"},
		{"not a mapping", "- a\n- b\n", nil, "1: want a mapping of keys to values, got a list"},
		{"bad flag value", "lr_scheduler_type: x\n", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := testFlags(tc.skip...)
			path := write(t, "c.yaml", tc.text)
			_, err := Apply(fs, path, nil)
			if tc.want == "" {
				require.NoError(t, err) // the flag, not the file, checks a schedule's name
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+":"+tc.want)
		})
	}
	_, err := Apply(flag.NewFlagSet("t", flag.ContinueOnError), filepath.Join(t.TempDir(), "missing.yaml"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A flag given on the command line keeps its value; the file sets the others.
func TestCommandLineWins(t *testing.T) {
	fs, vals := testFlags()
	require.NoError(t, fs.Parse([]string{"-r", "4"}))
	cmdline := map[string]bool{"r": true}
	a, err := Apply(fs, write(t, "c.yaml", "lora_r: 16\nlora_alpha: 32\n"), cmdline)
	require.NoError(t, err)
	assert.Equal(t, "4", *vals["r"])
	assert.Equal(t, "32", *vals["alpha"])
	assert.False(t, a.Set("r"))
	assert.True(t, a.Set("alpha"))
}

func TestAnnotate(t *testing.T) {
	fs, _ := testFlags()
	path := write(t, "c.yaml", "lora_r: 0\n")
	a, err := Apply(fs, path, nil)
	require.NoError(t, err)
	for _, tc := range []struct{ err, want string }{
		{"-r must be > 0, got 0", "-r must be > 0, got 0 (set by " + path + ":1: lora_r: 0)"},
		{"-r: bad", "-r: bad (set by " + path + ":1: lora_r: 0)"},
		{"-ratio must be > 0", "-ratio must be > 0"},
		{"no flag", "no flag"},
	} {
		assert.Equal(t, tc.want, a.Annotate(errors.New(tc.err)).Error())
	}
	assert.NoError(t, a.Annotate(nil))
	var none *Applied
	assert.EqualError(t, none.Annotate(errors.New("x")), "x")
}

func TestWarmupSteps(t *testing.T) {
	for _, tc := range []struct {
		steps int
		ratio float64
		total int
		want  int
	}{{0, 0.1, 100, 10}, {0, 0.1, 101, 11}, {0, 0.06, 1000, 60}, {5, 0.5, 100, 5}, {0, 0, 100, 0}} {
		assert.Equal(t, tc.want, WarmupSteps(tc.steps, tc.ratio, tc.total), "%+v", tc)
	}
}
