package glue

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/llama"
)

// tinyLlamaClassifier is a two-layer Llama classifier over the tiny vocabulary.
func tinyLlamaClassifier(t *testing.T) *llama.ForSequenceClassification {
	c := llama.DefaultConfig()
	c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = tinyVocab, 16, 32, 2
	c.NumAttentionHeads, c.NumKeyValueHeads, c.NumLabels, c.InitializerRange = 2, 1, 2, 0.2
	m, err := llama.NewForSequenceClassification(&c, llama.BuildOptions{RNG: rand.New(rand.NewPCG(3, 4))})
	require.NoError(t, err)
	return m
}

// TestGradCheckpointEqualsFullGraph trains a Llama classifier with and without gradient checkpointing, with
// gradient accumulation, and checks that the losses and every trainable tensor agree (the two graphs add the
// same terms in another order). A classifier without checkpointing support is refused.
func TestGradCheckpointEqualsFullGraph(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	run := func(checkpoint bool) (*Trainer, float64) {
		cfg := tinyConfig(t, t.TempDir())
		cfg.LoRA.Targets = []string{"q_proj", "v_proj", "down_proj"}
		cfg.BatchSize, cfg.GradAccum, cfg.Epochs, cfg.MaxSteps = 4, 2, 1, 3
		cfg.GradCheckpoint = checkpoint
		tr, err := NewTrainer(tinyLlamaClassifier(t), cfg, tinyData(t, 32, 8))
		require.NoError(t, err)
		res, err := tr.Run(context.Background())
		require.NoError(t, err)
		return tr, res.TrainLoss
	}
	full, fullLoss := run(false)
	ckpt, ckptLoss := run(true)
	require.InDelta(t, fullLoss, ckptLoss, 1e-6*fullLoss)
	want, got := trainable(full), trainable(ckpt)
	require.Equal(t, len(want), len(got))
	for name, w := range want {
		require.InDeltaSlice(t, w, got[name], 1e-6, name)
	}
	changed := false
	for name, w := range want {
		if strings.Contains(name, "lora_B") {
			for _, v := range w {
				changed = changed || v != 0
			}
		}
	}
	require.True(t, changed, "the adapters trained (B left zero)")

	// One micro-batch's gradients directly: its loss is weighted by its share of the step in both modes.
	grads := func(checkpoint bool) (float64, map[string][]float64) {
		cfg := tinyConfig(t, t.TempDir())
		cfg.LoRA.Targets = []string{"q_proj", "v_proj"}
		cfg.LoRA.Dropout = 0 // with dropout the modes draw other masks (nn/llama tests checkpointing with dropout)
		cfg.GradCheckpoint = checkpoint
		tr, err := NewTrainer(tinyLlamaClassifier(t), cfg, tinyData(t, 16, 8))
		require.NoError(t, err)
		loss, err := tr.c.Backward(train.Batch{Indices: []int{0, 3, 5}, Seed: 11, Scale: 0.25})
		require.NoError(t, err)
		out := map[string][]float64{}
		for _, p := range tr.Model().Params {
			g := p.Tensor.MustGrad(false)
			out[p.Name] = g.MustView([]int64{-1}, true).Float64Values(true)
		}
		return loss.Value, out
	}
	l0, g0 := grads(false)
	l1, g1 := grads(true)
	require.InDelta(t, l0, l1, 1e-6*l0, "the loss is reported unweighted")
	for name, w := range g0 {
		require.InDeltaSlice(t, w, g1[name], 1e-7, name)
	}

	cfg := tinyConfig(t, t.TempDir())
	cfg.GradCheckpoint = true
	_, err := NewTrainer(newTinyClassifier(1, 2), cfg, tinyData(t, 16, 8))
	require.ErrorContains(t, err, "gradient checkpointing: the *glue.tinyClassifier classifier does not support it")
	var _ nn.Checkpointer = (*llama.ForSequenceClassification)(nil)
}
