package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestLoaderErrors(t *testing.T) {
	dir := t.TempDir()
	vocab := writeFile(t, dir, "vocab.json", `{"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3}`)
	good := writeFile(t, dir, "merges.txt", "#version: 0.2\na b\n")
	tok, err := LoadGPT2Files(vocab, good)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, tok.Encode("ab", false))

	bad := writeFile(t, dir, "bad.txt", "#version: 0.2\na b\na  b\n")
	_, err = LoadGPT2Files(vocab, bad)
	assert.ErrorContains(t, err, "bad.txt:3:")
	missing := writeFile(t, dir, "missing.txt", "a c\n")
	_, err = LoadGPT2Files(vocab, missing)
	assert.ErrorContains(t, err, `merge 1 "a c": token not in the vocabulary`)
	_, err = LoadGPT2Files(filepath.Join(dir, "nope.json"), good)
	assert.ErrorIs(t, err, os.ErrNotExist)
	badJSON := writeFile(t, dir, "broken.json", `{"a": `)
	_, err = LoadGPT2Files(badJSON, good)
	assert.ErrorContains(t, err, "broken.json")

	jsonCases := []struct {
		name, body, want string
	}{
		{"unigram.json", `{"model": {"type": "Unigram", "vocab": []}}`, `model type "Unigram" is not supported`},
		{"bert.json", `{"normalizer": {"type": "BertNormalizer"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`,
			`normalizer: normalizer type "BertNormalizer" is not supported`},
		{"punct.json", `{"pre_tokenizer": {"type": "UnicodeScripts"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`,
			`pre-tokenizer type "UnicodeScripts" is not supported`},
		{"split.json", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?!x)"}}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`,
			`Split behavior "" is not supported`},
		{"regex.json", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(x"}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`,
			`pre_tokenizer: Split: regex "(x": `},
		{"nopattern.json", `{"pre_tokenizer": {"type": "Split", "pattern": {}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`,
			`Split without a pattern`},
		{"merge.json", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}`, `model.merges[0] "a"`},
		{"unk.json", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}}`,
			`unknown token "<unk>" is not in the vocabulary`},
		{"dropout.json", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "dropout": 0.1}}`, "dropout"},
	}
	for _, c := range jsonCases {
		_, err := LoadTokenizerJSON(writeFile(t, dir, c.name, c.body))
		assert.ErrorContains(t, err, c.name+": ", c.name)
		assert.ErrorContains(t, err, c.want, c.name)
	}

	_, err = LoadDir(t.TempDir())
	assert.ErrorIs(t, err, errNoTokenizerFiles)
	_, err = LoadDir(filepath.Join(dir, "absent"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestGGUFErrors(t *testing.T) {
	base := GGUFVocab{Model: "llama", Tokens: []string{"<unk>", "a"}, Scores: []float32{0, 0},
		TokenTypes: []PieceType{PieceUnknown, PieceNormal}, BOS: NoToken, EOS: NoToken, UNK: 0, PAD: NoToken}
	no := false
	cases := []struct {
		name   string
		modify func(v *GGUFVocab)
		want   string
	}{
		{"model", func(v *GGUFVocab) { v.Model = "bert" }, `tokenizer.ggml.model "bert" is not supported`},
		{"empty", func(v *GGUFVocab) { v.Tokens = nil }, "tokens is empty"},
		{"scores", func(v *GGUFVocab) { v.Scores = nil }, "2 tokens but 0 scores"},
		{"types", func(v *GGUFVocab) { v.TokenTypes = []PieceType{1} }, "2 tokens but 1 token types"},
		{"type value", func(v *GGUFVocab) { v.TokenTypes = []PieceType{2, 9} }, "token_type[1] = 9"},
		{"bos range", func(v *GGUFVocab) { v.BOS = 7 }, "bos_token_id 7 out of range"},
		{"add bos", func(v *GGUFVocab) {}, "BOS/EOS requested"},
		{"pre", func(v *GGUFVocab) { v.Model, v.Pre, v.Merges = "gpt2", "falcon", nil }, `pre "falcon" is not supported`},
		{"merge", func(v *GGUFVocab) { v.Model, v.Merges = "gpt2", []string{"a"} }, `merges[0] "a"`},
	}
	for _, c := range cases {
		v := base
		c.modify(&v)
		_, err := NewFromGGUF(v)
		assert.ErrorContains(t, err, c.want, c.name)
	}
	v := base
	v.AddBOS = &no
	tok, err := NewFromGGUF(v)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 0}, tok.Encode("a b", true), "no BOS; no byte pieces: runs of unknowns fuse")
}
