package tokenizer

import (
	"fmt"
)

// GGUFVocab is the tokenizer stored in a GGUF file's tokenizer.ggml.* keys, so that a GGUF loader can build
// the tokenizer without any other file. Ids that the file does not give must be NoToken (-1).
type GGUFVocab struct {
	// Model is tokenizer.ggml.model: "gpt2" (byte-level BPE with merges) or "llama" (SentencePiece BPE
	// with scores).
	Model string
	// Pre is tokenizer.ggml.pre for "gpt2" models: "" or "gpt2"/"gpt-2" (GPT-2's split) or "smollm"
	// (every digit on its own, then GPT-2's split).
	Pre string
	// Tokens is tokenizer.ggml.tokens, [V].
	Tokens []string
	// Scores is tokenizer.ggml.scores, [V] (required for "llama").
	Scores []float32
	// TokenTypes is tokenizer.ggml.token_type, [V] (1 normal, 2 unknown, 3 control, 4 user-defined,
	// 5 unused, 6 byte); nil means all normal.
	TokenTypes []PieceType
	// Merges is tokenizer.ggml.merges, "a b" strings (required for "gpt2").
	Merges []string
	// BOS, EOS, UNK, PAD are tokenizer.ggml.{bos,eos,unknown,padding}_token_id, or NoToken.
	BOS, EOS, UNK, PAD int
	// AddBOS and AddEOS are tokenizer.ggml.add_bos_token / add_eos_token; nil means the llama.cpp
	// default (BOS for "llama", nothing for "gpt2").
	AddBOS, AddEOS *bool
	// AddSpacePrefix is tokenizer.ggml.add_space_prefix ("llama"; nil means true).
	AddSpacePrefix *bool
}

// NewFromGGUF builds a tokenizer from GGUF vocabulary lists. Control and unknown tokens are special
// tokens recognised in the text, user-defined tokens are matched whole. A "llama" vocabulary behaves like
// LoadSentencePiece on the tokenizer.model it was converted from (byte fallback when it has byte tokens);
// a "gpt2" one like a byte-level tokenizer.json.
func NewFromGGUF(v GGUFVocab) (*Pipeline, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("gguf: tokenizer.ggml.tokens is empty")
	}
	types := v.TokenTypes
	if types == nil {
		types = make([]PieceType, n)
		for i := range types {
			types[i] = PieceNormal
		}
	}
	if len(types) != n {
		return nil, fmt.Errorf("gguf: %d tokens but %d token types", n, len(types))
	}
	for i, t := range types {
		if t < PieceNormal || t > PieceByte {
			return nil, fmt.Errorf("gguf: tokenizer.ggml.token_type[%d] = %d is not a known type", i, t)
		}
	}
	for _, f := range []struct {
		name string
		id   int
	}{{"bos_token_id", v.BOS}, {"eos_token_id", v.EOS}, {"unknown_token_id", v.UNK}, {"padding_token_id", v.PAD}} {
		if f.id < NoToken || f.id >= n {
			return nil, fmt.Errorf("gguf: tokenizer.ggml.%s %d out of range (%d tokens)", f.name, f.id, n)
		}
	}
	switch v.Model {
	case "llama":
		return ggufLlama(v, types)
	case "gpt2":
		return ggufGPT2(v, types)
	}
	return nil, fmt.Errorf("gguf: tokenizer.ggml.model %q is not supported (gpt2, llama)", v.Model)
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func ggufLlama(v GGUFVocab, types []PieceType) (*Pipeline, error) {
	if len(v.Scores) != len(v.Tokens) {
		return nil, fmt.Errorf("gguf: %d tokens but %d scores (tokenizer.ggml.scores)", len(v.Tokens), len(v.Scores))
	}
	unk := v.UNK
	byteFallback := false
	for id, t := range types {
		if t == PieceUnknown && unk == NoToken {
			unk = id
		}
		byteFallback = byteFallback || t == PieceByte
	}
	if unk == NoToken {
		return nil, fmt.Errorf("gguf: no unknown token (tokenizer.ggml.unknown_token_id, token type 2)")
	}
	if types[unk] != PieceUnknown {
		// SentencePiece needs the unknown id to be an unknown piece to fall back to bytes.
		types = append([]PieceType(nil), types...)
		types[unk] = PieceUnknown
	}
	prefix := boolOr(v.AddSpacePrefix, true)
	return newSPMPipeline(spmSpec{name: "gguf", tokens: v.Tokens, scores: v.Scores, types: types,
		byteFallback: byteFallback,
		norm:         spNormalizer{addDummyPrefix: prefix, escapeWhitespaces: true},
		bos:          v.BOS, eos: v.EOS, pad: v.PAD, unk: unk,
		addBOS: boolOr(v.AddBOS, true), addEOS: boolOr(v.AddEOS, false), stripPrefix: prefix})
}

func ggufGPT2(v GGUFVocab, types []PieceType) (*Pipeline, error) {
	var pre preTokenizer
	switch v.Pre {
	case "", "gpt2", "gpt-2":
		pre = preByteLevel{useRegex: true}
	case "smollm":
		pre = preSequence{preDigits{individual: true}, preByteLevel{useRegex: true}}
	default:
		return nil, fmt.Errorf("gguf: tokenizer.ggml.pre %q is not supported (gpt2, smollm)", v.Pre)
	}
	vocab := make(map[string]int, len(v.Tokens))
	var added []*AddedToken
	for id, t := range v.Tokens {
		if _, dup := vocab[t]; !dup {
			vocab[t] = id
		}
		switch types[id] {
		case PieceControl, PieceUnknown:
			added = append(added, &AddedToken{Content: t, ID: id, Special: true})
		case PieceUserDefined:
			added = append(added, &AddedToken{Content: t, ID: id})
		}
	}
	merges := make([][2]string, len(v.Merges))
	for i, s := range v.Merges {
		p, ok := parseMerge(s)
		if !ok {
			return nil, fmt.Errorf("gguf: tokenizer.ggml.merges[%d] %q: want two tokens separated by one space", i, s)
		}
		merges[i] = p
	}
	bpe, err := newBPEModel("gguf", vocab, merges, bpeOptions{})
	if err != nil {
		return nil, err
	}
	addBOS, addEOS := boolOr(v.AddBOS, false), boolOr(v.AddEOS, false)
	if (addBOS && v.BOS == NoToken) || (addEOS && v.EOS == NoToken) {
		return nil, fmt.Errorf("gguf: add_bos_token/add_eos_token set but the BOS/EOS id is missing")
	}
	return newPipeline(pipelineParts{name: "gguf", vocab: vocab, added: added, pre: pre, model: bpe,
		post: llamaTemplate(v.BOS, v.EOS, addBOS, addEOS), dec: decByteLevel{},
		bos: v.BOS, eos: v.EOS, pad: v.PAD, unk: v.UNK})
}
