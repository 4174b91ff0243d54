package tokenizer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEncode measures Encode on longText (about 5 kB, ~1,700 GPT-2 tokens) per tokenizer (llama3-regexp2:
// Llama-3's Split regex on regexp2 instead of Go's regexp). The BPE
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
		{"llama3", loadDir("llama3")},
		{"llama3-regexp2", func(t testing.TB) *Pipeline {
			old := regexpForce
			regexpForce = "regexp2"
			defer func() { regexpForce = old }()
			return loadDir("llama3")(t)
		}},
		{"qwen3", loadDir("qwen3")},
		{"gpt4o", loadDir("gpt4o")},
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

// BenchmarkEncodeLong encodes 40 times longText at once (about 200 kB, one segment for the pre-tokenizer),
// to show that the one-match-at-a-time search of the Split regex stays linear.
func BenchmarkEncodeLong(b *testing.B) {
	text := strings.Repeat(longText, 40)
	for _, name := range []string{"gpt2", "llama3"} {
		b.Run(name, func(b *testing.B) {
			tok := loadDir(name)(b)
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				tok.Encode(text, false)
			}
		})
	}
}
