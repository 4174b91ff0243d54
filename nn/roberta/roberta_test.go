package roberta_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/roberta"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// A tiny random RobertaForSequenceClassification saved by transformers loads from every checkpoint layout and
// gives transformers' logits on a right-padded batch.
func TestRobertaHFParity(t *testing.T) {
	dir, ref, st := nntest.HFFixture(t, "roberta", roberta.Load)
	ids, mask := ref["ids"], ref["mask"]
	t.Run("head and pad id", func(t *testing.T) {
		assert.Equal(t, int64(1), st.Roberta.Config.PadID())
		assert.Equal(t, []int64{3, 32}, st.Classifier.OutProj.Weight.MustSize())
	})
	nntest.LayoutLogits(t, roberta.Load, dir, ref, st)
	for _, tc := range []struct {
		layout string
		dt     gotch.DType
	}{{"fp16", gotch.Half}, {"bf16", gotch.BFloat16}, {"bin16", gotch.Half}, {"binbf16", gotch.BFloat16}} {
		t.Run("fp32 model from "+tc.layout, func(t *testing.T) {
			nntest.CheckRounded(t, st, nntest.LoadClassifier(t, roberta.Load, filepath.Join(dir, tc.layout), nil), tc.dt)
		})
	}
	t.Run("bf16 model", func(t *testing.T) {
		m := nntest.LoadClassifier(t, roberta.Load, filepath.Join(dir, "st"), func(o *nn.ClassifierOptions) { o.DType = gotch.BFloat16 })
		assert.Less(t, nntest.MaxDiff(nntest.EvalLogits(t, m, ids, mask), ref["logits"]), 0.05)
	})
	t.Run("base model without head", func(t *testing.T) {
		m := nntest.LoadClassifier(t, roberta.Load, filepath.Join(dir, "base"), nil)
		nntest.SameParams(t, st.Roberta, m.Roberta, 0)
		w := nntest.Values(m.Classifier.Dense.Weight)
		assert.InDelta(t, 0.02, nntest.Stddev(w), 0.004, "dense initialised from N(0, initializer_range²)")
		assert.Equal(t, make([]float64, 32), nntest.Values(m.Classifier.Dense.Bias))
		again := nntest.LoadClassifier(t, roberta.Load, filepath.Join(dir, "base"), nil)
		assert.True(t, nntest.SameBits(w, nntest.Values(again.Classifier.Dense.Weight)), "same seed, same head")
	})
	t.Run("pooler, lm_head and gamma/beta keys", func(t *testing.T) {
		d := nntest.RenameKey(t, filepath.Join(dir, "st"), "roberta.embeddings.LayerNorm.weight", "roberta.embeddings.LayerNorm.gamma")
		extra := map[string]*ts.Tensor{"roberta.pooler.dense.weight": nntest.F32([]int64{1}, []float32{1}),
			"lm_head.bias": nntest.F32([]int64{1}, []float32{2}), "roberta.embeddings.position_ids": ts.MustOfSlice([]int64{0})}
		hfAddTensors(t, d, extra)
		nntest.SameParams(t, st, nntest.LoadClassifier(t, roberta.Load, d, nil), 0)
	})
	t.Run("key mismatch", func(t *testing.T) {
		bad := nntest.RenameKey(t, filepath.Join(dir, "st"), "roberta.encoder.layer.1.attention.self.value.bias",
			"roberta.encoder.layer.1.attention.self.values.bias")
		_, err := roberta.Load(bad, nn.DefaultClassifierOptions())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "missing keys (1):\n  roberta.encoder.layer.1.attention.self.value.bias")
		assert.Contains(t, err.Error(), "unexpected keys (1):\n  roberta.encoder.layer.1.attention.self.values.bias")
	})
	t.Run("partial head", func(t *testing.T) {
		bad := nntest.RenameKey(t, filepath.Join(dir, "st"), "classifier.out_proj.bias", "classifier.out.bias")
		_, err := roberta.Load(bad, nn.DefaultClassifierOptions())
		require.ErrorContains(t, err, "missing keys (1):\n  classifier.out_proj.bias")
	})
	t.Run("dropout in train mode", func(t *testing.T) {
		var a, e *ts.Tensor
		nn.NoGrad(func() { a, e = st.Logits(ids, mask, true), st.Logits(ids, mask, false) })
		assert.Greater(t, nntest.MaxDiff(a, e), 1e-6)
	})
	t.Run("LoRA+ step", func(t *testing.T) {
		m := nntest.LoadClassifier(t, roberta.Load, filepath.Join(dir, "st"), nil)
		c := &m.Roberta.Config
		c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0, 0
		nntest.TrainStep(t, nntest.StepCase{Arch: "roberta", Dir: dir, Model: m,
			Targets: []string{"query", "value"}, Head: []string{"classifier"}})
	})
}

func TestRobertaConfigAndInputs(t *testing.T) {
	nntest.Lock(t)
	dir := t.TempDir()
	path := filepath.Join(dir, weights.ConfigFile)
	for _, tc := range []struct{ name, json, want string }{
		{"heads", `{"hidden_size": 30, "num_attention_heads": 4}`, "multiple of num_attention_heads"},
		{"position type", `{"position_embedding_type": "relative_key"}`, "relative_key"},
		{"pad", `{"pad_token_id": 60000}`, "pad_token_id"},
		{"positions", `{"max_position_embeddings": 2}`, "max_position_embeddings"},
		{"activation", `{"hidden_act": "mish"}`, "mish"},
		{"head dropout", `{"classifier_dropout": 1.5}`, "dropout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, []byte(tc.json), 0o644))
			_, err := roberta.ReadConfig(dir)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, path)
		})
	}
	cfg := roberta.DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize = 10, 8, 1, 2, 16
	cfg.MaxPositionEmbeddings = 6 // padding_idx 1: at most 4 tokens
	m, err := roberta.New(cfg, 2, gotch.Float, gotch.CPU)
	require.NoError(t, err)
	i64 := func(shape []int64, v ...int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	require.NoError(t, m.CheckInputs(i64([]int64{1, 4}, 0, 5, 2, 1), i64([]int64{1, 4}, 1, 1, 1, 0)))
	require.ErrorContains(t, m.CheckInputs(i64([]int64{1, 5}, 0, 5, 6, 7, 2), nil), "exceeds the model's 4 positions")
	_, err = roberta.New(cfg, -1, gotch.Float, gotch.CPU)
	require.Error(t, err)
}

// hfAddTensors adds tensors to the model.safetensors of dir.
func hfAddTensors(t *testing.T, dir string, extra map[string]*ts.Tensor) {
	t.Helper()
	path := filepath.Join(dir, weights.SafetensorsFile)
	all, meta := nntest.ReadAll(t, path)
	var out []nn.NamedTensor
	for n, x := range all {
		out = append(out, nn.NamedTensor{Name: n, Tensor: x})
	}
	for n, x := range extra {
		out = append(out, nn.NamedTensor{Name: n, Tensor: x})
	}
	require.NoError(t, weights.WriteSafetensors(path, out, meta))
}
