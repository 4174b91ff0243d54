package glue

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/roberta"
)

// Every classifier of the module checks its batches in the trainer (nn.InputChecker): a batch with a token id
// outside the vocabulary stops the run with an error that names the model's package and the vocabulary, before
// any libtorch op sees the id. The Llama classifier had no CheckInputs method, so its batches went unchecked.
func TestTrainerChecksEveryClassifiersInputs(t *testing.T) {
	tests := []struct {
		name    string
		build   func(t *testing.T) nn.SequenceClassifier
		targets []string
		want    string
	}{
		{"gpt2", func(t *testing.T) nn.SequenceClassifier {
			c := gpt2.DefaultConfig()
			c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead = tinyVocab, 32, 16, 1, 2
			m, err := gpt2.New(c, 2, gotch.Float, gotch.CPU)
			require.NoError(t, err)
			return m
		}, []string{"c_attn"}, "gpt2: input ids: values in"},
		{"roberta", func(t *testing.T) nn.SequenceClassifier {
			c := roberta.DefaultConfig()
			c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = tinyVocab, 16, 1, 2, 32
			c.MaxPositionEmbeddings = 40
			m, err := roberta.New(c, 2, gotch.Float, gotch.CPU)
			require.NoError(t, err)
			return m
		}, []string{"query", "value"}, "roberta: input ids: values in"},
		{"llama", func(t *testing.T) nn.SequenceClassifier {
			c := llama.DefaultConfig()
			c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = tinyVocab, 16, 32, 1
			c.NumAttentionHeads, c.NumKeyValueHeads, c.NumLabels = 2, 1, 2
			m, err := llama.NewForSequenceClassification(&c, llama.BuildOptions{RNG: rand.New(rand.NewPCG(1, 2))})
			require.NoError(t, err)
			return m
		}, []string{"q_proj", "v_proj"}, "llama: input ids: values in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(t)
			_, ok := m.(nn.InputChecker)
			require.True(t, ok, "%T does not implement nn.InputChecker", m)
			bad := tinyData(t, 16, 8)
			for i := range bad.Train {
				bad.Train[i].IDs[0] = tinyVocab + 5
			}
			c := tinyConfig(t, t.TempDir())
			c.LoRA = loraplus.DefaultConfig(tc.targets...)
			c.LoRA.Dropout = 0
			tr, err := NewTrainer(m, c, bad)
			require.NoError(t, err)
			_, err = tr.Run(context.Background())
			require.ErrorContains(t, err, "batch does not fit the model: "+tc.want)
			require.ErrorContains(t, err, "outside the vocabulary [0, 256)")
		})
	}
}
