package llama_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/llama"
)

// TestCachedStepsEqualFullForward runs sequences through the key/value cache in steps of several shapes (a
// prompt, then single tokens and chunks that continue it, past several capacity doublings) and checks every
// step's logits against Logits on the whole sequence so far, for tied and untied models with and without rope
// scaling and for a batch of two.
func TestCachedStepsEqualFullForward(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tests := []struct {
		name  string
		tied  bool
		rope  *llama.RopeScaling
		batch int64
		steps []int64 // tokens per cached step
	}{
		{"prompt then single tokens", false, nil, 1, append([]int64{7}, repeat(1, 70)...)},
		{"chunks", true, nil, 1, []int64{5, 3, 1, 40, 2, 1}},
		{"batch of two", false, nil, 2, []int64{6, 1, 4, 1, 30}},
		{"one token at a time from the start", false, nil, 1, repeat(1, 10)},
		{"llama3 scaling", false, &llama.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4,
			OriginalMaxPositionEmbeddings: 16}, 1, []int64{9, 1, 1, 20}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := llamaCkptConfig(2, tc.tied)
			cfg.RopeScaling = tc.rope
			lm, err := llama.New(cfg, llama.BuildOptions{RNG: nntest.NewRNG(uint64(10 + i))})
			require.NoError(t, err)
			var total int64
			for _, n := range tc.steps {
				total += n
			}
			rng := nntest.NewRNG(uint64(20 + i))
			ids := make([]int64, tc.batch*total)
			for j := range ids {
				ids[j] = int64(rng.IntN(cfg.VocabSize))
			}
			all := ts.MustOfSlice(ids).MustView([]int64{tc.batch, total}, true)
			defer all.MustDrop()
			var full *ts.Tensor
			nn.NoGrad(func() { full = lm.Logits(all, nil, false) }) // [B, total, V]
			defer full.MustDrop()

			c := lm.Model.NewCache()
			defer c.Drop()
			var at int64
			for s, n := range tc.steps {
				step := all.MustNarrow(1, at, n, false)
				got, err := lm.LogitsCached(step, c)
				require.NoError(t, err)
				want := full.MustNarrow(1, at, n, false)
				nntest.RequireClose(t, nntest.Values(want), nntest.Values(got), 1e-5, "step %d (%d tokens at %d)", s, n, at)
				step.MustDrop()
				got.MustDrop()
				want.MustDrop()
				at += n
				require.Equal(t, int(at), c.Len())
			}
		})
	}
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestCacheRejectsMisuse checks the errors of a cached step that cannot continue the cache.
func TestCacheRejectsMisuse(t *testing.T) {
	lm, err := llama.New(llamaCkptConfig(2, false), llama.BuildOptions{RNG: nntest.NewRNG(3)})
	require.NoError(t, err)
	other, err := llama.New(llamaCkptConfig(3, false), llama.BuildOptions{RNG: nntest.NewRNG(3)})
	require.NoError(t, err)
	ids := func(b, t int64) *ts.Tensor { return ts.MustOnes([]int64{b, t}, gotch.Int64, gotch.CPU) }
	c := lm.Model.NewCache()
	defer c.Drop()
	_, err = lm.NextLogits(ids(2, 3), c)
	require.NoError(t, err)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"batch changes", func() error { _, err := lm.NextLogits(ids(1, 1), c); return err }, "batch of 1 sequences, the cache holds 2"},
		{"another model's cache", func() error { _, err := other.NextLogits(ids(2, 1), c); return err }, "the cache has 2 layers, the model 3"},
		{"no tokens", func() error { _, err := lm.NextLogits(ids(2, 0), c); return err }, "want [B, T] with T ≥ 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	require.Equal(t, 3, c.Len(), "a refused step leaves the cache as it was")
}
