package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sugarme "github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
)

func sugarmeIDs(t *testing.T, tk *sugarme.Tokenizer, text string) []int {
	enc, err := tk.EncodeSingle(text, false)
	require.NoError(t, err)
	return enc.Ids
}

// TestSugarmeGaps pins the github.com/sugarme/tokenizer v0.3.0 defects that this package works around
// (see the package documentation): each case shows v0.3.0's ids next to Hugging Face's, which this
// package reproduces. If v0.3.0 is replaced by a fixed version this test says so.
func TestSugarmeGaps(t *testing.T) {
	gpt2JSON := filepath.Join(assetPath(t, "gpt2"), "tokenizer.json")
	gpt2, err := pretrained.FromFile(gpt2JSON)
	require.NoError(t, err)
	ours, err := LoadTokenizerJSON(gpt2JSON)
	require.NoError(t, err)
	npmJSON := filepath.Join(assetPath(t, "llama2-npm"), "tokenizer.json")
	llama, err := pretrained.FromFile(npmJSON)
	require.NoError(t, err)
	oursLlama, err := LoadTokenizerJSON(npmJSON)
	require.NoError(t, err)

	cases := []struct {
		name string
		tk   *sugarme.Tokenizer
		ours *Pipeline
		text string
	}{
		{"whitespace run before a word (no \\s+(?!\\S))", gpt2, ours, "Hello  world\n\nNew paragraph."},
		{"special token in text dropped by ByteLevel", gpt2, ours, "Hello <|endoftext|> world"},
		{"Go's ASCII-only \\s: no-break spaces stay one piece", gpt2, ours, "a\u00a0\u00a0b"},
		{"no byte fallback: newline becomes <unk>", llama, oursLlama, "Hello world\n\nNew"},
		{"no byte fallback: emoji becomes <unk>", llama, oursLlama, "emoji 🤗 test"},
	}
	t.Run("RoBERTa pair type ids", func(t *testing.T) {
		robJSON := filepath.Join(assetPath(t, "roberta"), "tokenizer.json")
		rob, err := pretrained.FromFile(robJSON)
		require.NoError(t, err)
		oursRob, err := LoadTokenizerJSON(robJSON)
		require.NoError(t, err)
		enc, err := rob.EncodePair("Hello world", "How are you?", true)
		require.NoError(t, err)
		want := oursRob.EncodePair("Hello world", "How are you?", true)
		assert.Equal(t, want.IDs, enc.Ids, "the ids agree")
		assert.NotEqual(t, want.TypeIDs, enc.TypeIds, "sugarme/tokenizer now gives RoBERTa's all-zero type ids")
		t.Logf("v0.3.0 type ids %v, Hugging Face %v", enc.TypeIds, want.TypeIDs)
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := sugarmeIDs(t, c.tk, c.text)
			assert.NotEqual(t, c.ours.Encode(c.text, false), got,
				"sugarme/tokenizer now matches Hugging Face on %q: the documented gap is fixed", c.text)
			t.Logf("%q: v0.3.0 %v, Hugging Face %v", c.text, got, c.ours.Encode(c.text, false))
		})
	}
}
