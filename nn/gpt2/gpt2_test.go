package gpt2_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
)

// A tiny random GPT2ForSequenceClassification saved by transformers loads from every checkpoint layout and gives
// transformers' logits on a right-padded batch.
func TestGPT2HFParity(t *testing.T) {
	dir, ref, st := nntest.HFFixture(t, "gpt2", gpt2.Load)
	ids, mask := ref["ids"], ref["mask"]
	t.Run("head and pad id", func(t *testing.T) {
		assert.Equal(t, int64(99), st.PadTokenID)
		assert.Equal(t, []int64{3, 32}, st.Score.Weight.MustSize())
	})
	nntest.LayoutLogits(t, gpt2.Load, dir, ref, st)
	t.Run("last token from the mask without a pad id", func(t *testing.T) {
		none := int64(-1)
		m := nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, "st"), func(o *nn.ClassifierOptions) { o.PadTokenID = &none })
		assert.Less(t, nntest.MaxDiff(nntest.EvalLogits(t, m, ids, mask), ref["logits"]), 1e-4)
	})
	t.Run("unpadded row through is_causal", func(t *testing.T) {
		// row 0 fills all T positions: alone, with no mask or an all-ones one, the attention is causal only and runs
		// as scaled_dot_product_attention's is_causal; its logits are transformers' on the padded batch
		row := ids.MustNarrow(0, 0, 1, false)
		want := ref["logits"].MustNarrow(0, 0, 1, false)
		for _, m := range []*ts.Tensor{nil, ts.MustOnes(row.MustSize(), gotch.Int64, gotch.CPU)} {
			assert.Less(t, nntest.MaxDiff(nntest.EvalLogits(t, st, row, m), want), 1e-5)
		}
		full := mask.MustNarrow(0, 0, 1, false).MustSum(gotch.Float, true)
		require.Equal(t, float64(mask.MustSize()[1]), nntest.Values(full)[0], "row 0 fills the batch's length")
	})
	for _, tc := range []struct {
		layout string
		dt     gotch.DType
	}{{"fp16", gotch.Half}, {"bf16", gotch.BFloat16}, {"bin16", gotch.Half}, {"binbf16", gotch.BFloat16}} {
		t.Run("fp32 model from "+tc.layout, func(t *testing.T) {
			nntest.CheckRounded(t, st, nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, tc.layout), nil), tc.dt)
		})
	}
	t.Run("bf16 model", func(t *testing.T) {
		m := nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, "st"), func(o *nn.ClassifierOptions) { o.DType = gotch.BFloat16 })
		got := nntest.EvalLogits(t, m, ids, mask)
		assert.Equal(t, gotch.Float, got.DType())
		assert.Less(t, nntest.MaxDiff(got, ref["logits"]), 0.05)
	})
	t.Run("base model without head", func(t *testing.T) {
		m := nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, "base"), nil)
		for i, p := range nntest.Params(t, st.Transformer) {
			q := nntest.Params(t, m.Transformer)[i]
			require.True(t, nntest.SameBits(nntest.Values(p.Tensor), nntest.Values(q.Tensor)), p.Name)
		}
		w := nntest.Values(m.Score.Weight)
		assert.InDelta(t, 0.02, nntest.Stddev(w), 0.006, "score initialised from N(0, initializer_range²)")
		again := nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, "base"), nil)
		assert.True(t, nntest.SameBits(w, nntest.Values(again.Score.Weight)), "same seed, same head")
		other := nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, "base"), func(o *nn.ClassifierOptions) { o.Seed = 9 })
		assert.False(t, nntest.SameBits(w, nntest.Values(other.Score.Weight)))
	})
	t.Run("key mismatch", func(t *testing.T) {
		bad := nntest.RenameKey(t, filepath.Join(dir, "st"), "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_fcx.weight")
		_, err := gpt2.Load(bad, nn.DefaultClassifierOptions())
		require.Error(t, err)
		assert.Contains(t, err.Error(), bad)
		assert.Contains(t, err.Error(), "missing keys (1):\n  transformer.h.1.mlp.c_fc.weight")
		assert.Contains(t, err.Error(), "unexpected keys (1):\n  transformer.h.1.mlp.c_fcx.weight")
	})
	t.Run("dropout in train mode", func(t *testing.T) {
		var a, b, e *ts.Tensor
		nn.NoGrad(func() {
			a, b, e = st.Logits(ids, mask, true), st.Logits(ids, mask, true), st.Logits(ids, mask, false)
		})
		assert.Greater(t, nntest.MaxDiff(a, b), 1e-6)
		assert.Greater(t, nntest.MaxDiff(a, e), 1e-6)
	})
	t.Run("LoRA+ step", func(t *testing.T) {
		m := nntest.LoadClassifier(t, gpt2.Load, filepath.Join(dir, "st"), nil)
		c := &m.Transformer.Config
		c.ResidPdrop, c.EmbdPdrop, c.AttnPdrop = 0, 0, 0
		nntest.TrainStep(t, nntest.StepCase{Arch: "gpt2", Dir: dir, Model: m,
			Targets: []string{"c_attn", "c_proj", "c_fc", "wte"}, Head: []string{"score"}})
	})
}

func TestGPT2CheckInputs(t *testing.T) {
	nntest.Lock(t)
	cfg := gpt2.DefaultConfig()
	cfg.VocabSize, cfg.NPositions, cfg.NEmbd, cfg.NLayer, cfg.NHead = 10, 4, 8, 1, 2
	m, err := gpt2.New(cfg, 2, gotch.Float, gotch.CPU)
	require.NoError(t, err)
	i64 := func(shape []int64, v ...int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	ok := i64([]int64{2, 2}, 1, 2, 3, 4)
	for _, tc := range []struct {
		name      string
		ids, mask *ts.Tensor
		want      string
	}{
		{"ok", ok, i64([]int64{2, 2}, 1, 1, 1, 0), ""},
		{"nil mask", ok, nil, ""},
		{"nil ids", nil, nil, "nil"},
		{"rank", i64([]int64{4}, 1, 2, 3, 4), nil, "shape"},
		{"dtype", nntest.F32([]int64{1, 2}, []float32{1, 2}), nil, "int64"},
		{"too long", i64([]int64{1, 5}, 1, 2, 3, 4, 5), nil, "exceeds"},
		{"vocabulary", i64([]int64{1, 2}, 1, 10), nil, "vocabulary"},
		{"negative id", i64([]int64{1, 2}, -1, 0), nil, "vocabulary"},
		{"mask shape", ok, i64([]int64{1, 2}, 1, 1), "attention mask"},
		{"mask values", ok, i64([]int64{2, 2}, 1, 2, 1, 1), "0 or 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.CheckInputs(tc.ids, tc.mask)
			if tc.want == "" {
				require.NoError(t, err)
				var y *ts.Tensor
				nn.NoGrad(func() { y = m.Logits(tc.ids, tc.mask, false) })
				assert.Equal(t, []int64{2, 2}, y.MustSize())
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err = gpt2.New(cfg, 0, gotch.Float, gotch.CPU)
	require.Error(t, err)
	_, err = gpt2.New(cfg, 2, gotch.Int64, gotch.CPU)
	require.ErrorContains(t, err, "dtype")
}
