package mmlu_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/nn/memtest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// tinyRandomLlama is a 2-layer Llama with the Llama-2 vocabulary, hidden size 32 and grouped-query attention,
// initialised at random.
func tinyRandomLlama(t *testing.T) *nnllama.ForCausalLM {
	cfg := nnllama.DefaultConfig()
	cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 32, 64, 2
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads = 4, 2
	lm, err := nnllama.New(&cfg, nnllama.BuildOptions{RNG: rand.New(rand.NewPCG(1, 2))})
	require.NoError(t, err)
	return lm
}

// A long MMLU evaluation keeps memory flat: a tiny random Llama scores real MMLU validation prompts (1-shot,
// Llama-2 tokenizer, batches of 4 with left padding, so every batch has another shape) through mmlu.Evaluate: one
// pass over 114 prompts as warm-up, then 5 more passes (570 prompts). The number of live tensors may not change,
// and resident memory may not grow by more than 5%.
func TestMMLUEvalMemoryStaysFlat(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tok, err := tokenizer.LoadSentencePiece(mmluShared(t, "tokenizers", "llama2", "tokenizer.model"))
	require.NoError(t, err)
	all, err := mmlu.Load(mmluShared(t, "mmlu"), mmlu.LoadOptions{Split: "val"})
	require.NoError(t, err)
	lm := tinyRandomLlama(t)

	// two questions of each of the 57 subjects: prompts of 60 to 1,500 tokens
	for i := range all {
		all[i].Questions = all[i].Questions[:min(2, len(all[i].Questions))]
	}
	eval := func() {
		rep, _, err := mmlu.Evaluate(lm, tok, all, mmlu.EvalOptions{Shots: 1, MaxLen: 2048, Batch: 4, PadLeft: true})
		require.NoError(t, err)
		require.Equal(t, 2*len(all), rep.Questions)
	}
	eval()
	live := memtest.LiveTensors(t)
	before := memtest.RSS(t)
	for i := range 5 {
		eval()
		require.Equal(t, live, memtest.LiveTensors(t), "live tensors after pass %d", i+2)
	}
	after := memtest.RSS(t)
	growth := float64(after-before) / float64(before)
	t.Logf("RSS after one pass %.1f MB, after 5 more %.1f MB (%+.2f%%)", float64(before)/1e6, float64(after)/1e6, 100*growth)
	require.Less(t, growth, 0.05, "resident memory grew by %.1f%% over 5 passes", 100*growth)
}
