package nn_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/roberta"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// The pruned last layers (the positions the heads read: one per sequence for Llama and GPT-2, the first for
// RoBERTa) equal the full forward pass at those positions, with and without padding, with LoRA adapters on
// Llama's q.
func TestPrunedLastLayerEqualsFullForward(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	i64 := func(shape []int64, v ...int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	shape := []int64{2, 5}
	ids := i64(shape, 5, 9, 7, 3, 8, 1, 1, 4, 6, 2)
	tests := []struct {
		name string
		mask *ts.Tensor
	}{
		{"no mask", nil},
		{"all ones", i64(shape, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
		{"left padding", i64(shape, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1)},
	}

	cfg := llama.DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 12, 16, 24, 2
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads = 4, 2
	lm, err := llama.NewModel(&cfg, llama.BuildOptions{RNG: rand.New(rand.NewPCG(5, 6))})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, l := range lm.Layers {
		require.NoError(t, l.SelfAttn.QProj.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 4, Init: nn.InitAZero}, rng))
	}

	rc := roberta.DefaultConfig()
	rc.VocabSize, rc.HiddenSize, rc.NumHiddenLayers, rc.NumAttentionHeads, rc.IntermediateSize = 12, 16, 2, 4, 24
	rm, err := roberta.NewModel(rc, gotch.Float, gotch.CPU)
	require.NoError(t, err)
	params, err := nn.Parameters(rm)
	require.NoError(t, err)
	for _, p := range params {
		p.Tensor.MustNormal_(0, 0.5)
	}

	gc := gpt2.DefaultConfig()
	gc.VocabSize, gc.NPositions, gc.NEmbd, gc.NLayer, gc.NHead = 12, 8, 16, 2, 4
	gm, err := gpt2.NewModel(gc, gotch.Float, gotch.CPU)
	require.NoError(t, err)
	params, err = nn.Parameters(gm)
	require.NoError(t, err)
	for _, p := range params {
		p.Tensor.MustNormal_(0, 0.5)
	}
	pos := i64([]int64{2}, 4, 2) // one position per sequence, as the classifier's last tokens

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nn.NoGrad(func() {
				full := lm.Forward(ids, tc.mask, false)
				idx := pos.MustView([]int64{2, 1, 1}, false).MustExpand([]int64{2, 1, 16}, false, true)
				at := full.MustGather(1, idx, false, true)
				got := lm.ForwardAt(ids, tc.mask, pos, false)
				require.Equal(t, []int64{2, 1, 16}, got.MustSize())
				require.Less(t, nntest.MaxAbsDiff(got.MustReshape([]int64{-1}, true).Float64Values(true), at.MustReshape([]int64{-1}, true).Float64Values(true)), 1e-6, "llama")

				full = rm.Forward(ids, tc.mask, false)
				first := full.MustNarrow(1, 0, 1, true)
				got = rm.ForwardFirst(ids, tc.mask, false)
				require.Equal(t, []int64{2, 1, 16}, got.MustSize())
				require.Less(t, nntest.MaxAbsDiff(got.MustReshape([]int64{-1}, true).Float64Values(true), first.MustReshape([]int64{-1}, true).Float64Values(true)), 1e-6, "roberta")

				full = gm.Forward(ids, tc.mask, false)
				idx = pos.MustView([]int64{2, 1, 1}, false).MustExpand([]int64{2, 1, 16}, false, true)
				at = full.MustGather(1, idx, false, true)
				got = gm.ForwardAt(ids, tc.mask, pos, false)
				require.Equal(t, []int64{2, 1, 16}, got.MustSize())
				require.Less(t, nntest.MaxAbsDiff(got.MustReshape([]int64{-1}, true).Float64Values(true), at.MustReshape([]int64{-1}, true).Float64Values(true)), 1e-6, "gpt2")
			})
		})
	}
}
