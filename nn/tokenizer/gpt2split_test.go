package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitGPT2(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"Hello  world", []string{"Hello", " ", " world"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"a\n\n b", []string{"a", "\n\n", " b"}},
		{"trailing   ", []string{"trailing", "   "}},
		{"  lead", []string{" ", " lead"}},
		{"\t\tx", []string{"\t", "\t", "x"}},
		{"I'm don't they'll we've you're he'd 'S", []string{"I", "'m", " don", "'t", " they", "'ll", " we", "'ve",
			" you", "'re", " he", "'d", " '", "S"}},
		{"x's ''s", []string{"x", "'s", " ''", "s"}},
		{"abc123 456def", []string{"abc", "123", " 456", "def"}},
		{"hi!!! ?? ok", []string{"hi", "!!!", " ??", " ok"}},
		{"naïve café", []string{"naïve", " café"}},
		{"e\u0301x", []string{"e", "\u0301", "x"}},
		{"日本語 テキスト", []string{"日本語", " テキスト"}},
		{"🤗🤗 a", []string{"🤗🤗", " a"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}},
		{"a\u3000\u3000b", []string{"a", "\u3000", "\u3000", "b"}},
		{"a\u200bb", []string{"a", "\u200b", "b"}},
		{"a\x1cb", []string{"a", "\x1c", "b"}},
		{"", nil},
		{" ", []string{" "}},
		{"\xff\xfe ok", []string{"\xff\xfe", " ok"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, splitGPT2(c.in, nil), "%q", c.in)
	}
}

func TestPreDigitsAndMetaspace(t *testing.T) {
	assert.Equal(t, []string{"a", "1", "2", " b", "3"}, preDigits{individual: true}.split("a12 b3", true, nil))
	assert.Equal(t, []string{"a", "12", " b", "3"}, preDigits{}.split("a12 b3", true, nil))
	ms := preMetaspace{replacement: spaceSymbol, prepend: prependFirst, splitWords: true}
	assert.Equal(t, []string{"▁Hey", "▁", "▁friend"}, ms.split("Hey  friend", true, nil))
	assert.Equal(t, []string{"Hey", "▁friend"}, ms.split("Hey friend", false, nil))
}
