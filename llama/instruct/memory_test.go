package instruct_test

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama/instruct"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/memtest"
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

// TestInstructTrainerFreesItsTensors checks that instruction tuning (with and without gradient checkpointing,
// with checkpoints written along the way) frees every tensor it makes as it goes: the number of live tensors is
// the same after every step, without help from the garbage collector.
func TestInstructTrainerFreesItsTensors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(3, 4))
	examples := make([]instruct.Encoded, 24)
	for i := range examples {
		n := 8 + rng.IntN(24)
		e := instruct.Encoded{InputIDs: make([]int, n), Labels: make([]int, n)}
		for j := range n {
			e.InputIDs[j] = 3 + rng.IntN(31000)
			e.Labels[j] = e.InputIDs[j]
			if j < n/2 {
				e.Labels[j] = instruct.IgnoreIndex // the prompt
			}
		}
		examples[i] = e
	}
	for _, ckpt := range []bool{false, true} {
		c := instruct.DefaultConfig()
		c.LoRA.Rank, c.BatchSize, c.MaxLen, c.Epochs = 4, 4, 32, 3
		c.ClipNorm, c.SaveEvery, c.Keep, c.GradCheckpoint = 1, 5, 1, ckpt
		c.Out, c.Log = t.TempDir(), io.Discard
		var live []int
		c.OnStep = func(int, float64) { live = append(live, memtest.LiveTensors(t)) }
		tr, err := instruct.NewTrainer(tinyRandomLlama(t), c, examples, 0)
		require.NoError(t, err)
		_, err = tr.Run(context.Background())
		require.NoError(t, err)
		require.Len(t, live, 18)
		for i, n := range live {
			require.Equal(t, live[0], n, "gradient checkpointing %v: live tensors after step %d", ckpt, i+1)
		}
	}
}
