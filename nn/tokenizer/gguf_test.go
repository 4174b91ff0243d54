package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// ggufFromModel builds GGUF-style lists from the Llama-2 tokenizer.model, as llama.cpp's converter stores
// them (tokens, scores, token types, special ids), and tokenizes with NewFromGGUF.
func ggufFromModel(t testing.TB) *Pipeline {
	data, err := os.ReadFile(llama2ModelPath(t))
	require.NoError(t, err)
	m, err := ParseSentencePieceModel(data)
	require.NoError(t, err)
	tok, err := NewFromGGUF(GGUFVocab{Model: "llama", Tokens: m.Pieces, Scores: m.Scores, TokenTypes: m.Types,
		BOS: int(m.BOSID), EOS: int(m.EOSID), UNK: int(m.UnkID), PAD: NoToken})
	require.NoError(t, err)
	return tok
}

// jsonLists is the vocabulary of a tokenizer.json laid out by id.
type jsonLists struct {
	tokens  []string
	types   []PieceType
	merges  []string
	special map[string]int
}

func readJSONLists(t testing.TB, rel string) jsonLists {
	data, err := os.ReadFile(filepath.Join(assetPath(t, rel), "tokenizer.json"))
	require.NoError(t, err)
	var f struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		Model struct {
			Vocab        map[string]int    `json:"vocab"`
			Merges       []json.RawMessage `json:"merges"` // "a b" (tokenizers < 0.20) or ["a", "b"]
			UnkToken     *string           `json:"unk_token"`
			ByteFallback bool              `json:"byte_fallback"`
		} `json:"model"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	n := len(f.Model.Vocab)
	for _, a := range f.AddedTokens {
		n = max(n, a.ID+1)
	}
	l := jsonLists{tokens: make([]string, n), types: make([]PieceType, n), special: map[string]int{}}
	for _, m := range f.Model.Merges {
		var s string
		if json.Unmarshal(m, &s) != nil {
			var pair [2]string
			require.NoError(t, json.Unmarshal(m, &pair))
			s = pair[0] + " " + pair[1]
		}
		l.merges = append(l.merges, s) // GGUF's tokenizer.ggml.merges holds "a b" strings
	}
	for tok, id := range f.Model.Vocab {
		l.tokens[id] = tok
		l.types[id] = PieceNormal
		if _, ok := parseByteToken(tok); ok && f.Model.ByteFallback {
			l.types[id] = PieceByte
		}
	}
	for id, tok := range l.tokens {
		if tok == "" && l.types[id] == 0 { // a hole in the ids (GPT-4o's): llama.cpp's converter fills it so
			l.tokens[id], l.types[id] = fmt.Sprintf("[PAD%d]", id), PieceUnused
		}
	}
	for _, a := range f.AddedTokens {
		l.tokens[a.ID] = a.Content
		l.special[a.Content] = a.ID
		switch {
		case f.Model.UnkToken != nil && a.Content == *f.Model.UnkToken:
			l.types[a.ID] = PieceUnknown
		case a.Special:
			l.types[a.ID] = PieceControl
		default:
			l.types[a.ID] = PieceUserDefined
		}
	}
	return l
}

// ggufLlamaFromJSON builds "llama" GGUF lists from a SentencePiece-BPE tokenizer.json. tokenizer.json has
// no scores, so a piece's score is minus the rank of the first merge that produces it (SentencePiece
// merges the highest score first, Hugging Face the lowest rank).
func ggufLlamaFromJSON(rel string) func(t testing.TB) *Pipeline {
	return func(t testing.TB) *Pipeline {
		l := readJSONLists(t, rel)
		ids := map[string]int{}
		for id, tok := range l.tokens {
			ids[tok] = id
		}
		scores := make([]float32, len(l.tokens))
		seen := make([]bool, len(l.tokens))
		for rank, m := range l.merges {
			p, ok := parseMerge(m)
			require.True(t, ok, m)
			id := ids[p[0]+p[1]]
			if !seen[id] {
				seen[id], scores[id] = true, -float32(rank)
			}
		}
		tok, err := NewFromGGUF(GGUFVocab{Model: "llama", Tokens: l.tokens, Scores: scores, TokenTypes: l.types,
			BOS: l.special["<s>"], EOS: l.special["</s>"], UNK: l.special["<unk>"], PAD: NoToken})
		require.NoError(t, err)
		return tok
	}
}

// ggufGPT2FromJSON builds "gpt2" GGUF lists from a byte-level tokenizer.json.
func ggufGPT2FromJSON(rel, pre string) func(t testing.TB) *Pipeline {
	return func(t testing.TB) *Pipeline {
		l := readJSONLists(t, rel)
		v := GGUFVocab{Model: "gpt2", Pre: pre, Tokens: l.tokens, TokenTypes: l.types, Merges: l.merges,
			BOS: NoToken, EOS: NoToken, UNK: NoToken, PAD: NoToken}
		if id, ok := l.special["<|endoftext|>"]; ok {
			v.BOS, v.EOS = id, id
		}
		yes := true
		switch pre {
		case "smollm":
			// SmolLM2-135M-Instruct's GGUF: bos <|im_start|>, eos and pad <|im_end|>, unk <|endoftext|>.
			v.BOS, v.EOS, v.PAD, v.UNK = 1, 2, 2, 0
		case "llama-bpe":
			// Llama-3.1's: bos <|begin_of_text|> added, eos <|eot_id|> (the reference pads with it).
			v.BOS, v.EOS, v.AddBOS = l.special["<|begin_of_text|>"], l.special["<|eot_id|>"], &yes
		case "qwen2":
			// Qwen3's: no bos, eos <|im_end|>, pad <|endoftext|>.
			v.BOS, v.EOS, v.PAD = NoToken, l.special["<|im_end|>"], l.special["<|endoftext|>"]
		case "gpt-4o":
			v.PAD = v.EOS
		case "deepseek-v3":
			v.BOS, v.EOS = l.special["<｜begin▁of▁sentence｜>"], l.special[deepseekEOS]
		}
		tok, err := NewFromGGUF(v)
		require.NoError(t, err)
		if pre == "smollm" {
			require.Equal(t, 2, tok.PAD())
			tok.SetPAD(0) // the reference pads with <|endoftext|>
		}
		return tok
	}
}
