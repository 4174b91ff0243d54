package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/nn"
)

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parseFlags([]string{"-model", "m"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "mnli", o.task.Name)
	assert.Equal(t, 16.0, o.ratio)
	assert.Equal(t, 1e-6, o.lrEmb)
	assert.Equal(t, 0.0, o.lr, "chosen by model type")
	assert.Nil(t, o.targets, "chosen by model type")
	assert.Equal(t, []any{8, 8.0, 0.1, nn.InitBZero}, []any{o.rank, o.alpha, o.dropout, o.init})
	assert.Equal(t, []any{32, 128, 3, 0}, []any{o.batch, o.maxLen, o.epochs, o.maxSteps})
	assert.Equal(t, []any{0.9, 0.99, 1e-8, 0.0, "linear", 0}, []any{o.beta1, o.beta2, o.eps, o.wd, o.schedule, o.warmup})
	assert.Equal(t, []any{500, 500, 2}, []any{o.evalEvery, o.saveEvery, o.keep})
	assert.Equal(t, 1.0, o.clip, "the authors' GLUE runs clip to norm 1 (Trainer's max_grad_norm)")
	assert.Equal(t, glue.StopAtFirstError, o.badRows)
	assert.Equal(t, "out/glue/mnli", o.out)

	o, err = parseFlags([]string{"-task", "SST2", "-targets", "query, value", "-bad-rows", "skip", "-init", "a-zero"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 10, o.epochs, "SST-2 trains 10 epochs")
	assert.Equal(t, []string{"query", "value"}, o.targets)
	assert.Equal(t, glue.SkipBadRows, o.badRows)
	assert.Equal(t, nn.InitAZero, o.init)

	o, err = parseFlags([]string{"-sweep", "1e-4,2e-4:1e-3,2e-3,4e-3"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []float64{1e-4, 2e-4}, o.sweepA)
	assert.Equal(t, []float64{1e-3, 2e-3, 4e-3}, o.sweepB)
	for _, mode := range []string{"-compare", "-sweep-grid"} {
		o, err = parseFlags([]string{mode, "-resume", "latest"}, io.Discard)
		require.NoError(t, err, "%s continues with -resume latest", mode)
		assert.Equal(t, "latest", o.resume)
	}
	o, err = parseFlags([]string{"-sweep-grid"}, io.Discard)
	require.NoError(t, err)
	xs, ys := sweepAxes(o, 1e-4)
	assert.InDeltaSlice(t, []float64{2.5e-5, 5e-5, 1e-4, 2e-4, 4e-4}, xs, 1e-12)
	assert.Len(t, ys, 9)
	assert.InDelta(t, 6.4e-3, ys[8], 1e-12)
}

func TestParseFlagsErrors(t *testing.T) {
	cases := []struct {
		args []string
		err  string
	}{
		{[]string{"-task", "ax"}, `-task: unknown task "ax"`},
		{[]string{"-bad-rows", "ignore"}, `-bad-rows: want stop or skip, got "ignore"`},
		{[]string{"-init", "gauss"}, `-init: unknown LoRA init "gauss"`},
		{[]string{"-targets", "c_attn,,c_fc"}, "-targets: empty name"},
		{[]string{"-freeze-head", ","}, "-freeze-head: empty name"},
		{[]string{"-ratio", "0"}, "-ratio must be > 0"},
		{[]string{"-ratio", "NaN"}, "-ratio must be > 0"},
		{[]string{"-lr", "-1"}, "-lr must be > 0"},
		{[]string{"-r", "0"}, "-r must be > 0"},
		{[]string{"-alpha", "0"}, "-alpha must be > 0"},
		{[]string{"-dropout", "1"}, "-dropout must be in [0, 1)"},
		{[]string{"-batch", "0"}, "-batch must be > 0"},
		{[]string{"-grad-accum", "0"}, "-grad-accum must be > 0"},
		{[]string{"-max-len", "1"}, "-max-len must be > 1"},
		{[]string{"-epochs", "-3"}, "-epochs must be > 0"},
		{[]string{"-max-steps", "-1"}, "-max-steps must be >= 0"},
		{[]string{"-beta2", "1"}, "-beta2 must be in [0, 1)"},
		{[]string{"-eps", "0"}, "-eps must be > 0"},
		{[]string{"-weight-decay", "-0.1"}, "-weight-decay must be >= 0"},
		{[]string{"-schedule", "exp"}, `-schedule: unknown schedule "exp"`},
		{[]string{"-warmup", "-5"}, "-warmup must be >= 0"},
		{[]string{"-clip", "-1"}, "-clip must be >= 0"},
		{[]string{"-keep", "-1"}, "-keep must be >= 0"},
		{[]string{"-seed", "-1"}, "-seed must be >= 0"},
		{[]string{"-device", "tpu"}, "-device: want cpu, cuda or auto"},
		{[]string{"-limit-train", "-1"}, "-limit-train and -limit-eval must be >= 0"},
		{[]string{"-sweep", "1e-4"}, `-sweep: want "lrA1,lrA2,...:lrB1,lrB2,..."`},
		{[]string{"-sweep", "1e-4,x:1e-3"}, `-sweep: bad learning rate "x"`},
		{[]string{"-sweep", "2e-4,1e-4:1e-3"}, "-sweep: learning rates must increase"},
		{[]string{"-sweep", "1e-4:1e-3", "-sweep-grid"}, "-sweep and -sweep-grid exclude each other"},
		{[]string{"-sweep-grid", "-compare"}, "-compare and -sweep exclude each other"},
		{[]string{"-compare", "-ratio", "1"}, "-compare runs ratio 1 against -ratio"},
		{[]string{"-seeds", "1,2"}, "-seeds and -lora-lr are settings of -compare"},
		{[]string{"-lora-lr", "1e-3"}, "-seeds and -lora-lr are settings of -compare"},
		{[]string{"-compare", "-seeds", "1,x"}, `-seeds: bad seed "x"`},
		{[]string{"-compare", "-seeds", "1,-2"}, `-seeds: bad seed "-2"`},
		{[]string{"-compare", "-seeds", "4,4"}, "-seeds: seed 4 twice"},
		{[]string{"-compare", "-lora-lr", "-1"}, "-lora-lr must be > 0"},
		{[]string{"-compare", "-resume", "out/glue/mnli/checkpoint-4"}, `-resume with -sweep or -compare takes only "latest"`},
		{[]string{"-sweep", "1e-4:1e-3", "-resume", "x"}, `-resume with -sweep or -compare takes only "latest"`},
		{[]string{"-batch", "x"}, `invalid value "x" for flag -batch`},
		{[]string{"extra"}, "unexpected arguments: extra"},
	}
	for _, c := range cases {
		t.Run(c.err, func(t *testing.T) {
			_, err := parseFlags(c.args, io.Discard)
			require.ErrorContains(t, err, c.err)
		})
	}
}

// TestFrozenHeadDefault checks -freeze-head: auto (the default) freezes RoBERTa's classifier.dense as the
// authors' run_glue.py does and nothing for GPT-2 and Llama, none trains the whole head, a list is kept as given.
func TestFrozenHeadDefault(t *testing.T) {
	dense := []string{"classifier.dense.weight", "classifier.dense.bias"}
	cases := []struct {
		kind   modelKind
		args   []string
		frozen []string
	}{
		{modelKinds["roberta"], nil, dense},
		{modelKinds["roberta"], []string{"-freeze-head", "auto"}, dense},
		{modelKinds["roberta"], []string{"-freeze-head", "none"}, []string{}},
		{modelKinds["roberta"], []string{"-freeze-head", "classifier.out_proj.bias"}, []string{"classifier.out_proj.bias"}},
		{modelKinds["gpt2"], nil, nil},
		{modelKinds["gpt2"], []string{"-freeze-head", "none"}, []string{}},
		{llamaKind, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.kind.name+" "+strings.Join(c.args, " "), func(t *testing.T) {
			o, err := parseFlags(c.args, io.Discard)
			require.NoError(t, err)
			s := &session{o: o, kind: c.kind}
			cfg := s.config(1e-4, 16, t.TempDir(), "")
			assert.Equal(t, c.frozen, cfg.FrozenHead)
			assert.Equal(t, 1.0, cfg.ClipNorm)
		})
	}
	var help strings.Builder
	_, err := parseFlags([]string{"-h"}, &help)
	require.Error(t, err)
	for _, want := range []string{"max_grad_norm, 1 in the authors' GLUE scripts (0: no clipping) (default 1)", "classifier.dense.weight,classifier.dense.bias frozen for RoBERTa",
		"\"none\" to train the whole head", "(default \"auto\")"} {
		assert.Contains(t, help.String(), want)
	}
}

func TestRunUsageErrors(t *testing.T) {
	assert.Equal(t, cli.ExitUsage, run([]string{"-task", "ax"}, io.Discard, io.Discard))
	assert.Equal(t, cli.ExitOK, run([]string{"-h"}, io.Discard, io.Discard))
	assert.Equal(t, cli.ExitError, run([]string{"-model", t.TempDir()}, io.Discard, io.Discard), "no config.json")
}
