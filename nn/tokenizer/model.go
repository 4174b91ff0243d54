package tokenizer

import (
	"fmt"
	"os"

	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// Load loads the tokenizer of a model of any architecture: from the tokenizer.ggml.* metadata of a GGUF file,
// or from the files of a Hugging Face directory (see LoadDir: tokenizer.json, tokenizer.model, vocab.json +
// merges.txt).
func Load(path string) (*Pipeline, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return LoadDir(path)
	}
	if !gguf.IsFile(path) {
		return nil, fmt.Errorf("tokenizer: %s: neither a tokenizer directory nor a GGUF file", path)
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
		return nil, fmt.Errorf("tokenizer: %s: no tokenizer.ggml.model: the file carries no tokenizer", path)
	}
	var types []PieceType
	for _, v := range t.TokenTypes {
		types = append(types, PieceType(v))
	}
	addBOS, addEOS := t.AddBOS, t.AddEOS
	tok, err := NewFromGGUF(GGUFVocab{
		Model: t.Model, Pre: t.Pre, Tokens: t.Tokens, Scores: t.Scores, TokenTypes: types, Merges: t.Merges,
		BOS: t.BOS, EOS: t.EOS, UNK: t.UNK, PAD: t.PAD, AddBOS: &addBOS, AddEOS: &addEOS,
	})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return tok, nil
}
