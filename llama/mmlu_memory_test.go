package llama_test

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama"
	"github.com/loraplus-go/loraplus/llama/data"
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
// Llama-2 tokenizer, batches of 4 with left padding, so every batch has another shape) through EvalMMLU: one
// pass over 114 prompts as warm-up, then 5 more passes (570 prompts). The number of live tensors may not change,
// and resident memory may not grow by more than 5%.
func TestMMLUEvalMemoryStaysFlat(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tok, err := tokenizer.LoadSentencePiece(mmluShared(t, "tokenizers", "llama2", "tokenizer.model"))
	require.NoError(t, err)
	all, err := data.LoadMMLU(mmluShared(t, "mmlu"), data.MMLUOptions{Split: "val"})
	require.NoError(t, err)
	lm := tinyRandomLlama(t)

	// two questions of each of the 57 subjects: prompts of 60 to 1,500 tokens
	for i := range all {
		all[i].Questions = all[i].Questions[:min(2, len(all[i].Questions))]
	}
	eval := func() {
		rep, _, err := llama.EvalMMLU(lm, tok, all, llama.MMLUEvalOptions{Shots: 1, MaxLen: 2048, Batch: 4, PadLeft: true})
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

// TestInstructTrainerFreesItsTensors checks that instruction tuning (with and without gradient checkpointing,
// with checkpoints written along the way) frees every tensor it makes as it goes: the number of live tensors is
// the same after every step, without help from the garbage collector.
func TestInstructTrainerFreesItsTensors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(3, 4))
	examples := make([]data.Encoded, 24)
	for i := range examples {
		n := 8 + rng.IntN(24)
		e := data.Encoded{InputIDs: make([]int, n), Labels: make([]int, n)}
		for j := range n {
			e.InputIDs[j] = 3 + rng.IntN(31000)
			e.Labels[j] = e.InputIDs[j]
			if j < n/2 {
				e.Labels[j] = data.IgnoreIndex // the prompt
			}
		}
		examples[i] = e
	}
	for _, ckpt := range []bool{false, true} {
		c := llama.DefaultInstructConfig()
		c.LoRA.Rank, c.BatchSize, c.MaxLen, c.Epochs = 4, 4, 32, 3
		c.ClipNorm, c.SaveEvery, c.Keep, c.GradCheckpoint = 1, 5, 1, ckpt
		c.Out, c.Log = t.TempDir(), io.Discard
		var live []int
		c.OnStep = func(int, float64) { live = append(live, memtest.LiveTensors(t)) }
		tr, err := llama.NewInstructTrainer(tinyRandomLlama(t), c, examples, 0)
		require.NoError(t, err)
		_, err = tr.Run(context.Background())
		require.NoError(t, err)
		require.Len(t, live, 18)
		for i, n := range live {
			require.Equal(t, live[0], n, "gradient checkpointing %v: live tensors after step %d", ckpt, i+1)
		}
	}
}
