package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// spmTokenizerKVs builds the tokenizer.ggml.* metadata of a Hugging Face base whose tokenizer is a SentencePiece
// tokenizer.model, as llama.cpp's converters do (gguf-py's SentencePieceVocab and SpecialVocab): every piece with
// its score and type (unknown, control, unused and byte kept, user-defined written as normal), the pieces of
// added_tokens.json after them (user-defined, score -1000), "[PADi]" pieces (unused, score -1000) up to the
// config's vocab_size, and the bos/eos/unk/pad ids and add_bos/add_eos flags of tokenizer_config.json and
// config.json. It returns nil without error when dir has no tokenizer.model.
func spmTokenizerKVs(dir string, c *nnllama.Config) ([]gguf.KV, error) {
	path := filepath.Join(dir, "tokenizer.model")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := tokenizer.ParseSentencePieceModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tokens := append([]string(nil), m.Pieces...)
	scores := append([]float32(nil), m.Scores...)
	types := make([]int32, len(tokens))
	for i, t := range m.Types {
		switch t {
		case tokenizer.PieceUnknown, tokenizer.PieceControl, tokenizer.PieceUnused, tokenizer.PieceByte:
			types[i] = int32(t)
		default:
			types[i] = int32(tokenizer.PieceNormal)
		}
	}
	var added map[string]int
	if err := readJSON(filepath.Join(dir, "added_tokens.json"), &added); err != nil {
		return nil, err
	}
	type addedTok struct {
		text string
		id   int
	}
	var extra []addedTok
	for text, id := range added {
		if id >= len(m.Pieces) {
			extra = append(extra, addedTok{text, id})
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].id < extra[j].id })
	for _, a := range extra {
		if a.id != len(tokens) {
			return nil, fmt.Errorf("%s: added token %q has id %d, want %d (ids must follow the %d pieces of %s in order)",
				filepath.Join(dir, "added_tokens.json"), a.text, a.id, len(tokens), len(m.Pieces), path)
		}
		tokens, scores, types = append(tokens, a.text), append(scores, -1000), append(types, int32(tokenizer.PieceUserDefined))
	}
	if len(tokens) > c.VocabSize {
		return nil, fmt.Errorf("%s: %d tokens for a vocab_size of %d", path, len(tokens), c.VocabSize)
	}
	for i := len(tokens); i < c.VocabSize; i++ {
		tokens, scores, types = append(tokens, fmt.Sprintf("[PAD%d]", i)), append(scores, -1000), append(types, int32(tokenizer.PieceUnused))
	}
	kvs := []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.Scalar("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.Value{Type: gguf.ValueArray, ElemType: gguf.ValueString, Data: tokens}},
		{Key: "tokenizer.ggml.scores", Value: gguf.Value{Type: gguf.ValueArray, ElemType: gguf.ValueFloat32, Data: scores}},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Value{Type: gguf.ValueArray, ElemType: gguf.ValueInt32, Data: types}},
	}
	var tc struct {
		AddBOS *bool `json:"add_bos_token"`
		AddEOS *bool `json:"add_eos_token"`
	}
	if err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &tc); err != nil {
		return nil, err
	}
	var cj struct {
		BOS *int `json:"bos_token_id"`
		EOS *int `json:"eos_token_id"`
		PAD *int `json:"pad_token_id"`
	}
	if err := readJSON(filepath.Join(dir, "config.json"), &cj); err != nil {
		return nil, err
	}
	id := func(key string, v *int, def int32) {
		x := int(def)
		if v != nil {
			x = *v
		}
		if x >= 0 && x < len(tokens) {
			kvs = append(kvs, gguf.KV{Key: key, Value: gguf.Scalar(uint32(x))})
		}
	}
	id("tokenizer.ggml.bos_token_id", cj.BOS, m.BOSID)
	id("tokenizer.ggml.eos_token_id", cj.EOS, m.EOSID)
	id("tokenizer.ggml.unknown_token_id", nil, m.UnkID)
	id("tokenizer.ggml.padding_token_id", cj.PAD, m.PadID)
	if tc.AddBOS != nil {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Scalar(*tc.AddBOS)})
	}
	if tc.AddEOS != nil {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.add_eos_token", Value: gguf.Scalar(*tc.AddEOS)})
	}
	return kvs, nil
}

// readJSON decodes path into v; a missing file leaves v as it is.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
