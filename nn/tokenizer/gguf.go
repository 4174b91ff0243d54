package tokenizer

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// ggufSplit is the pre-tokenizer of a tokenizer.ggml.pre name: Split pre-tokenizers (one per pattern)
// followed by ByteLevel without its regex, as in the model's tokenizer.json.
type ggufSplit struct {
	patterns     []string
	behavior     splitBehavior
	invert       bool
	nfc          bool
	ignoreMerges bool
}

// Patterns of the tokenizer.json files of Llama-3, Qwen2, DeepSeek-V3 and GPT-4o.
const (
	llama3SplitPattern    = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwen2SplitPattern     = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	gpt4oSplitPattern     = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	deepseek3SplitPattern = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
)

var ggufSplitPre = map[string]ggufSplit{
	"llama-bpe": {patterns: []string{llama3SplitPattern}, behavior: splitIsolated, ignoreMerges: true},
	"llama3":    {patterns: []string{llama3SplitPattern}, behavior: splitIsolated, ignoreMerges: true},
	"llama-v3":  {patterns: []string{llama3SplitPattern}, behavior: splitIsolated, ignoreMerges: true},
	"qwen2":     {patterns: []string{qwen2SplitPattern}, behavior: splitIsolated, nfc: true},
	"deepseek-v3": {patterns: []string{`\p{N}{1,3}`, `[一-龥぀-ゟ゠-ヿ]+`, deepseek3SplitPattern},
		behavior: splitIsolated},
	"gpt-4o": {patterns: []string{gpt4oSplitPattern}, behavior: splitRemoved, invert: true},
}

var ggufSplitPreNames = func() string {
	var names []string
	for n := range ggufSplitPre {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}()

// GGUFVocab is the tokenizer stored in a GGUF file's tokenizer.ggml.* keys, so that a GGUF loader can build
// the tokenizer without any other file. Ids that the file does not give must be NoToken (-1).
type GGUFVocab struct {
	// Model is tokenizer.ggml.model: "gpt2" (byte-level BPE with merges) or "llama" (SentencePiece BPE
	// with scores).
	Model string
	// Pre is tokenizer.ggml.pre for "gpt2" models: "" or "gpt2"/"gpt-2" (GPT-2's split), "smollm"
	// (every digit on its own, then GPT-2's split), or one of llama.cpp's names for the Split layouts of
	// Hugging Face tokenizer.json files: "llama-bpe" (also "llama3", "llama-v3"; Llama-3, with
	// ignore_merges), "qwen2" (with the NFC normalizer of Qwen2's tokenizer.json, which llama.cpp does not
	// apply), "deepseek-v3", "gpt-4o".
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
	var normal normalizer
	ignoreMerges := false
	switch v.Pre {
	case "", "gpt2", "gpt-2":
		pre = preByteLevel{useRegex: true}
	case "smollm":
		pre = preSequence{preDigits{individual: true}, preByteLevel{useRegex: true}}
	default:
		spec, ok := ggufSplitPre[v.Pre]
		if !ok {
			return nil, fmt.Errorf("gguf: tokenizer.ggml.pre %q is not supported (gpt2, smollm, %s)", v.Pre,
				ggufSplitPreNames)
		}
		var seq preSequence
		for _, pat := range spec.patterns {
			re, err := compileOnig(pat)
			if err != nil {
				return nil, fmt.Errorf("gguf: tokenizer.ggml.pre %q: %w", v.Pre, err)
			}
			seq = append(seq, preSplit{re: re, behavior: spec.behavior, invert: spec.invert})
		}
		pre = append(seq, preByteLevel{})
		if spec.nfc {
			normal = normUnicode{norm.NFC}
		}
		ignoreMerges = spec.ignoreMerges
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
	bpe, err := newBPEModel("gguf", vocab, merges, bpeOptions{ignoreMerges: ignoreMerges})
	if err != nil {
		return nil, err
	}
	addBOS, addEOS := boolOr(v.AddBOS, false), boolOr(v.AddEOS, false)
	if (addBOS && v.BOS == NoToken) || (addEOS && v.EOS == NoToken) {
		return nil, fmt.Errorf("gguf: add_bos_token/add_eos_token set but the BOS/EOS id is missing")
	}
	return newPipeline(pipelineParts{name: "gguf", vocab: vocab, added: added, norm: normal, pre: pre, model: bpe,
		post: llamaTemplate(v.BOS, v.EOS, addBOS, addEOS), dec: decByteLevel{},
		bos: v.BOS, eos: v.EOS, pad: v.PAD, unk: v.UNK})
}
