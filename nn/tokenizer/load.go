package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadDir loads the tokenizer of a Hugging Face model directory, trying in order: tokenizer.json,
// tokenizer.model (SentencePiece), vocab.json + merges.txt (RoBERTa when tokenizer_config.json names a
// RoBERTa class or, without a config, when the vocabulary has <s> and <mask>; GPT-2 otherwise).
func LoadDir(dir string) (*Pipeline, error) {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	switch {
	case exists("tokenizer.json"):
		return LoadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	case exists("tokenizer.model"):
		return LoadSentencePiece(filepath.Join(dir, "tokenizer.model"))
	case exists("vocab.json") && exists("merges.txt"):
		vocab, merges := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
		cfg, err := readTokenizerConfig(dir)
		if err != nil {
			return nil, err
		}
		roberta := false
		if cfg != nil && cfg.class != "" {
			roberta = strings.Contains(cfg.class, "Roberta")
		} else {
			gpt2, err := LoadGPT2Files(vocab, merges)
			if err != nil {
				return nil, err
			}
			_, hasS := gpt2.vocab["<s>"]
			_, hasMask := gpt2.vocab["<mask>"]
			if !hasS || !hasMask {
				return gpt2, nil
			}
			roberta = true
		}
		if roberta {
			return LoadRobertaFiles(vocab, merges)
		}
		return LoadGPT2Files(vocab, merges)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: %w", dir, errNoTokenizerFiles)
}

var errNoTokenizerFiles = errors.New("no tokenizer.json, tokenizer.model or vocab.json + merges.txt")
