package loraplus_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

func TestBadConfigIsAnError(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		name string
		edit func(*loraplus.Config)
		want string
	}{
		{"rank 0", func(c *loraplus.Config) { c.Rank = 0 }, "rank must be > 0"},
		{"rank negative", func(c *loraplus.Config) { c.Rank = -3 }, "rank must be > 0"},
		{"alpha 0", func(c *loraplus.Config) { c.Alpha = 0 }, "alpha"},
		{"dropout 1", func(c *loraplus.Config) { c.Dropout = 1 }, "dropout must be in [0, 1)"},
		{"dropout negative", func(c *loraplus.Config) { c.Dropout = -0.1 }, "dropout must be in [0, 1)"},
		{"dropout NaN", func(c *loraplus.Config) { c.Dropout = math.NaN() }, "dropout"},
		{"no targets", func(c *loraplus.Config) { c.Targets = nil }, "no target modules"},
		{"unknown target", func(c *loraplus.Config) { c.Targets = []string{"fc1", "q_proj"} }, `"q_proj" match no module`},
		{"bad regex", func(c *loraplus.Config) { c.TargetRegex = "fc(" }, "target regex"},
		{"regex matches nothing", func(c *loraplus.Config) { c.Targets, c.TargetRegex = nil, `layers\.\d+\.q` }, "match no module"},
		{"target is a LayerNorm", func(c *loraplus.Config) { c.Targets = []string{"ln"} }, `target "ln" is a *nn.LayerNorm, not an nn.Linear or nn.Embedding`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loraplus.DefaultConfig("fc1", "fc2")
			tc.edit(&cfg)
			_, err := loraplus.Wrap(newToyNet(1), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestBadOptimConfigIsAnError(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		name string
		edit func(*loraplus.OptimConfig)
		want string
	}{
		{"ratio 0", func(c *loraplus.OptimConfig) { c.Ratio = 0 }, "ratio must be > 0"},
		{"ratio negative", func(c *loraplus.OptimConfig) { c.Ratio = -16 }, "ratio must be > 0"},
		{"ratio Inf", func(c *loraplus.OptimConfig) { c.Ratio = math.Inf(1) }, "ratio must be > 0"},
		{"lr 0", func(c *loraplus.OptimConfig) { c.LR = 0 }, "learning rate must be > 0"},
		{"beta1 1", func(c *loraplus.OptimConfig) { c.Beta1 = 1 }, "betas"},
		{"eps 0", func(c *loraplus.OptimConfig) { c.Eps = 0 }, "eps"},
		{"weight decay negative", func(c *loraplus.OptimConfig) { c.WeightDecay = -1 }, "weight decay"},
		{"embedding lr negative", func(c *loraplus.OptimConfig) { c.LREmbedding = -1 }, "embedding learning rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := loraplus.Wrap(newToyNet(1), loraplus.DefaultConfig("fc1"))
			require.NoError(t, err)
			oc := loraplus.DefaultOptimConfig(1e-3)
			tc.edit(&oc)
			_, err = m.NewAdamW(oc)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		kind          string
		warmup, total int
		step          int
		want          float64
	}{
		{"constant", 0, 0, 7, 1},
		{"constant", 4, 0, 2, 0.5},
		{"linear", 0, 10, 0, 1},
		{"linear", 0, 10, 5, 0.5},
		{"linear", 0, 10, 10, 0},
		{"linear", 2, 10, 1, 0.5},
		{"linear", 2, 10, 6, 0.5},
		{"cosine", 0, 10, 5, 0.5},
		{"cosine", 0, 10, 10, 0},
		{"cosine", 5, 15, 5, 1},
	} {
		s, err := loraplus.ParseSchedule(tc.kind, tc.warmup, tc.total)
		require.NoError(t, err)
		assert.InDelta(t, tc.want, s.Factor(tc.step), 1e-12, "%+v", tc)
	}
	for _, bad := range []struct {
		kind          string
		warmup, total int
	}{{"step", 0, 10}, {"linear", 0, 0}, {"cosine", -1, 10}} {
		_, err := loraplus.ParseSchedule(bad.kind, bad.warmup, bad.total)
		assert.Error(t, err, "%+v", bad)
	}
}

func TestIsNoDecay(t *testing.T) {
	for name, want := range map[string]bool{
		"classifier.dense.bias": true, "h.0.ln_1.weight": true, "ln_f.weight": true,
		"encoder.layer.0.attention.output.LayerNorm.weight": true, "model.layers.0.input_layernorm.weight": true,
		"model.norm.weight": true, "score.weight": false, "classifier.out_proj.weight": false, "gate": false,
		"h.0.attn.c_attn.lora_B.weight": false,
	} {
		assert.Equal(t, want, loraplus.IsNoDecay(name), name)
	}
}

func TestInitChoices(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		init         nn.LoRAInit
		aZero, bZero bool
	}{{nn.InitBZero, false, true}, {nn.InitAZero, true, false}} {
		cfg := loraplus.DefaultConfig("fc1")
		cfg.Init = tc.init
		net := newToyNet(1)
		_, err := loraplus.Wrap(net, cfg)
		require.NoError(t, err)
		a := net.Fc1.LoRA.A.MustAbs(false).MustSum(net.Fc1.LoRA.A.DType(), true).Float64Values(true)[0]
		b := net.Fc1.LoRA.B.MustAbs(false).MustSum(net.Fc1.LoRA.B.DType(), true).Float64Values(true)[0]
		assert.Equal(t, tc.aZero, a == 0, "A zero with %v", tc.init)
		assert.Equal(t, tc.bZero, b == 0, "B zero with %v", tc.init)
	}
}
