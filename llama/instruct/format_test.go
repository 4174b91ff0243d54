package instruct

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatPromptCompletion(t *testing.T) {
	tests := []struct {
		name, prompt, completion string
		text, target             string
	}{
		{"space added", "Q: 2+2?\nA:", "4", "Q: 2+2?\nA: 4</s>", " 4</s>"},
		{"prompt ends with space", "Summary: ", "short", "Summary: short</s>", "short</s>"},
		{"prompt ends with newline", "Q\n", "a", "Q\na</s>", "a</s>"},
		{"prompt ends with tab", "Q\t", "a", "Q\ta</s>", "a</s>"},
		{"completion starts with space", "Q", " a", "Q a</s>", " a</s>"},
		{"completion starts with newline", "Q", "\na", "Q\na</s>", "\na</s>"},
		{"other whitespace does not count", "Q\r", "\va", "Q\r \va</s>", " \va</s>"},
		{"empty prompt", "", "a", " a</s>", " a</s>"},
		{"empty completion", "Q", "", "Q </s>", " </s>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Format(Example{Prompt: tt.prompt, Completion: tt.completion}, "</s>")
			require.NoError(t, err)
			assert.Equal(t, tt.text, f.Text)
			assert.Equal(t, tt.prompt, f.Prompt)
			assert.Equal(t, tt.target, f.Target)
			assert.Equal(t, f.Text, f.Prompt+f.Target)
			assert.Equal(t, []MaskSpan{{0, len(tt.prompt)}}, f.Masked)
		})
	}
}

func TestFormatMessages(t *testing.T) {
	sys := Message{RoleSystem, " Be brief. "}
	user := Message{RoleUser, "\tHi?\n"}
	asst := Message{RoleAssistant, "Hello.\n\n"}
	user2 := Message{RoleUser, "Bye"}
	asst2 := Message{RoleAssistant, "Ciao"}
	const (
		s  = "<|system|>\nBe brief.\n"
		u  = "<|user|>\nHi?\n"
		a  = "<|assistant|>\nHello.</s>\n"
		u2 = "<|user|>\nBye\n"
		a2 = "<|assistant|>\nCiao</s>\n"
		at = "<|assistant|>\n"
	)
	tests := []struct {
		name   string
		msgs   []Message
		text   string
		prompt string
		masked []MaskSpan
	}{
		{"single turn", []Message{user, asst}, u + a[:len(a)-1], u + at,
			[]MaskSpan{{0, len(u + at)}}},
		{"system", []Message{sys, user, asst}, s + u + a[:len(a)-1], s + u + at,
			[]MaskSpan{{0, len(s)}, {len(s), len(s + u + at)}}},
		{"two turns", []Message{user, asst, user2, asst2}, u + a + u2 + a2[:len(a2)-1], u + at,
			[]MaskSpan{{0, len(u + at)}, {len(u + a), len(u + a + u2 + at)}}},
		{"ends with user", []Message{user, asst, user2}, u + a + u2[:len(u2)-1], u + at,
			[]MaskSpan{{0, len(u + at)}, {len(u + a), len(u + a + u2)}}},
		{"assistant first", []Message{asst, user, asst2}, a + u + a2[:len(a2)-1], "",
			[]MaskSpan{{len(a), len(a + u + at)}}},
		{"user only", []Message{user}, u[:len(u)-1], u[:len(u)-1], []MaskSpan{{0, len(u)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Format(Example{Messages: tt.msgs}, "</s>")
			require.NoError(t, err)
			assert.Equal(t, tt.text, f.Text)
			assert.Equal(t, tt.prompt, f.Prompt)
			assert.Equal(t, f.Text, f.Prompt+f.Target)
			assert.Equal(t, tt.masked, f.Masked)
			assert.True(t, strings.HasPrefix(f.Context, f.Text))
		})
	}
}

func TestFormatErrors(t *testing.T) {
	_, err := Format(Example{Messages: []Message{}, File: "f.jsonl", Line: 4}, "</s>")
	assert.ErrorContains(t, err, "f.jsonl:4: messages: empty")
	_, err = Format(Example{Messages: []Message{{"tool", "x"}}, File: "f.jsonl", Line: 5}, "</s>")
	assert.ErrorContains(t, err, `f.jsonl:5: messages[0].role: invalid role "tool"`)
}

func TestPyStrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a b  ", "a b"},
		{"\t\n\v\f\ra\r\n", "a"},
		{"\x1c\x1d\x1ea\x1f", "a"},
		{"\u00a0\u2003a\u3000\u0085", "a"},
		{"\u200ba\u200b", "\u200ba\u200b"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, pyStrip(tt.in), "%q", tt.in)
	}
}

func TestEncode(t *testing.T) {
	// Word tokenizer with a BOS id 0 and ids = word lengths, so that ids
	// are easy to read.
	words := func(s string) ([]int, error) {
		ids := []int{0}
		for _, w := range strings.Fields(s) {
			ids = append(ids, len(w))
		}
		return ids, nil
	}
	f, err := Format(Example{Prompt: "aa bbb", Completion: "c dddd", File: "x.jsonl", Line: 7}, " e")
	require.NoError(t, err)
	tests := []struct {
		name   string
		maxLen int
		ids    []int
		labels []int
	}{
		{"default length", 0, []int{0, 2, 3, 1, 4, 1}, []int{-100, -100, -100, 1, 4, 1}},
		{"truncated inside target", 5, []int{0, 2, 3, 1, 4}, []int{-100, -100, -100, 1, 4}},
		{"truncated inside prompt", 2, []int{0, 2}, []int{-100, -100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := f.Encode(words, tt.maxLen)
			require.NoError(t, err)
			assert.Equal(t, tt.ids, enc.InputIDs)
			assert.Equal(t, tt.labels, enc.Labels)
		})
	}
	enc, err := f.Encode(words, 0)
	require.NoError(t, err)
	assert.Equal(t, 3, enc.Trained())

	_, err = f.Encode(nil, 0)
	assert.ErrorContains(t, err, "nil tokenize")
	_, err = f.Encode(func(string) ([]int, error) { return nil, errors.New("boom") }, 0)
	assert.ErrorContains(t, err, "x.jsonl:7: encode: tokenize: boom")
	bad := f
	bad.Masked = []MaskSpan{{0, len(f.Context) + 1}}
	_, err = bad.Encode(words, 0)
	assert.ErrorContains(t, err, "outside context")
}
