package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEncode measures Encode on longText (about 5 kB, ~1,700 GPT-2 tokens) per tokenizer. The BPE
// word cache is warm after the first iteration, as in a training loop over a corpus.
func BenchmarkEncode(b *testing.B) {
	cases := []struct {
		name string
		load func(t testing.TB) *Pipeline
	}{
		{"gpt2", loadDir("gpt2")},
		{"llama2-model", func(t testing.TB) *Pipeline {
			tok, err := LoadSentencePiece(llama2ModelPath(t))
			require.NoError(t, err)
			return tok
		}},
		{"llama2-json", loadDir("llama2-hf")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			tok := c.load(b)
			b.SetBytes(int64(len(longText)))
			b.ResetTimer()
			for b.Loop() {
				tok.Encode(longText, true)
			}
		})
	}
}
