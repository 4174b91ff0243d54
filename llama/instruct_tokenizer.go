package llama

import (
	"fmt"
	"os"

	"github.com/loraplus-go/loraplus/llama/gguf"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// LoadTokenizer loads the tokenizer of a model: from the tokenizer.ggml.* metadata of a GGUF file, or from the
// files of a Hugging Face directory (tokenizer.json, tokenizer.model, vocab.json + merges.txt).
func LoadTokenizer(path string) (*tokenizer.Pipeline, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return tokenizer.LoadDir(path)
	}
	if !isGGUF(path) {
		return nil, fmt.Errorf("%s: neither a tokenizer directory nor a GGUF file", path)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := f.LlamaParams()
	if err != nil {
		return nil, err
	}
	t := p.Tokenizer
	if t.Model == "" {
		return nil, fmt.Errorf("gguf: %s: no tokenizer.ggml.model: the file carries no tokenizer", path)
	}
	var types []tokenizer.PieceType
	for _, v := range t.TokenTypes {
		types = append(types, tokenizer.PieceType(v))
	}
	addBOS, addEOS := t.AddBOS, t.AddEOS
	tok, err := tokenizer.NewFromGGUF(tokenizer.GGUFVocab{
		Model: t.Model, Pre: t.Pre, Tokens: t.Tokens, Scores: t.Scores, TokenTypes: types, Merges: t.Merges,
		BOS: t.BOS, EOS: t.EOS, UNK: t.UNK, PAD: t.PAD, AddBOS: &addBOS, AddEOS: &addEOS,
	})
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: tokenizer: %w", path, err)
	}
	return tok, nil
}

// IsGGUF reports whether path is a file to read as GGUF: one that starts with the GGUF magic, or one too short to
// hold it (a truncated file, which CheckGGUF and the loaders then report as a bad GGUF file).
func IsGGUF(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && isGGUF(path)
}
