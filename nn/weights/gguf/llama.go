package gguf

import (
	"errors"
	"fmt"
	"math"
)

// LlamaParams holds the hyperparameters of a Llama-architecture model as
// stored under the llama.* metadata keys, with the names Hugging Face's
// LlamaConfig uses noted on each field.
type LlamaParams struct {
	// Architecture is general.architecture ("llama").
	Architecture string
	// Name is general.name, or "" when absent.
	Name string
	// BlockCount is llama.block_count (num_hidden_layers).
	BlockCount int
	// ContextLength is llama.context_length (max_position_embeddings).
	ContextLength int
	// EmbeddingLength is llama.embedding_length (hidden_size).
	EmbeddingLength int
	// FeedForwardLength is llama.feed_forward_length (intermediate_size).
	FeedForwardLength int
	// HeadCount is llama.attention.head_count (num_attention_heads).
	HeadCount int
	// HeadCountKV is llama.attention.head_count_kv (num_key_value_heads);
	// HeadCount when the key is absent.
	HeadCountKV int
	// HeadDim is llama.attention.key_length (head_dim), or
	// EmbeddingLength/HeadCount when absent.
	HeadDim int
	// RMSNormEps is llama.attention.layer_norm_rms_epsilon (rms_norm_eps),
	// as stored (float32).
	RMSNormEps float32
	// RopeFreqBase is llama.rope.freq_base (rope_theta), 10000 when absent.
	RopeFreqBase float32
	// RopeDimensionCount is llama.rope.dimension_count, HeadDim when absent.
	RopeDimensionCount int
	// RopeScaling is the rope.scaling.* group.
	RopeScaling RopeScaling
	// VocabSize is llama.vocab_size, else the number of tokenizer tokens,
	// else the row count of token_embd.weight.
	VocabSize int
	// TieWordEmbeddings is true when the file has no output.weight, so the
	// output projection reuses token_embd.weight (tie_word_embeddings).
	TieWordEmbeddings bool
	// Tokenizer is the tokenizer.ggml.* group.
	Tokenizer Tokenizer
}

// RopeScaling is the rotary-embedding scaling configuration.
type RopeScaling struct {
	// Type is llama.rope.scaling.type ("none", "linear", "yarn", ...); ""
	// when absent. Files that only carry the older llama.rope.scale_linear
	// key report "linear".
	Type string
	// Factor is llama.rope.scaling.factor (or rope.scale_linear), 0 when
	// absent.
	Factor float32
	// OriginalContextLength is llama.rope.scaling.original_context_length,
	// 0 when absent.
	OriginalContextLength int
	// AttnFactor is llama.rope.scaling.attn_factor, 0 when absent.
	AttnFactor float32
	// Finetuned is llama.rope.scaling.finetuned.
	Finetuned bool
}

// Tokenizer is the tokenizer stored in tokenizer.ggml.* metadata. Token ids
// are -1 when the file does not set them.
type Tokenizer struct {
	// Model is tokenizer.ggml.model: "llama" for SentencePiece, "gpt2" for
	// byte-level BPE, "" when the file has no tokenizer.
	Model string
	// Pre is tokenizer.ggml.pre, the pre-tokenizer name of BPE vocabularies.
	Pre string
	// Tokens is tokenizer.ggml.tokens, indexed by token id.
	Tokens []string
	// Scores is tokenizer.ggml.scores (SentencePiece log-probabilities), nil
	// when absent.
	Scores []float32
	// TokenTypes is tokenizer.ggml.token_type, nil when absent: 1 normal, 2
	// unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
	TokenTypes []int32
	// Merges is tokenizer.ggml.merges, BPE merges as "left right", nil when
	// absent.
	Merges []string
	// BOS, EOS, UNK and PAD are tokenizer.ggml.{bos,eos,unknown,padding}_token_id.
	BOS, EOS, UNK, PAD int
	// AddBOS is tokenizer.ggml.add_bos_token; when absent it is true for
	// SentencePiece ("llama") vocabularies and false otherwise.
	AddBOS bool
	// AddEOS is tokenizer.ggml.add_eos_token, false when absent.
	AddEOS bool
	// ChatTemplate is tokenizer.chat_template, "" when absent.
	ChatTemplate string
}

// maxHyper bounds integer hyperparameters so that products of them stay far
// from int overflow.
const maxHyper = 1 << 31

// LlamaParams reads the Llama hyperparameters and tokenizer. It fails when
// general.architecture is not "llama", when a required key is missing or has
// the wrong type, or when the values are inconsistent; errors name the key.
func (f *File) LlamaParams() (*LlamaParams, error) {
	arch, heads, kvHeads, err := f.llamaHeads()
	if err != nil {
		return nil, err
	}
	p := &LlamaParams{Architecture: arch, HeadCount: heads, HeadCountKV: kvHeads}
	if p.Name, err = f.optString("general.name"); err != nil {
		return nil, err
	}
	required := []struct {
		key string
		dst *int
	}{
		{"llama.block_count", &p.BlockCount},
		{"llama.context_length", &p.ContextLength},
		{"llama.embedding_length", &p.EmbeddingLength},
		{"llama.feed_forward_length", &p.FeedForwardLength},
	}
	for _, r := range required {
		if *r.dst, err = f.hyper(r.key); err != nil {
			return nil, err
		}
	}
	defDim := p.EmbeddingLength / p.HeadCount
	if p.HeadDim, err = f.optHyper("llama.attention.key_length", defDim); err != nil {
		return nil, err
	}
	if !f.Has("llama.attention.key_length") && p.EmbeddingLength%p.HeadCount != 0 {
		return nil, fmt.Errorf("gguf: %s: llama.embedding_length %d is not a multiple of llama.attention.head_count %d",
			f.Path, p.EmbeddingLength, p.HeadCount)
	}
	eps, err := f.Float("llama.attention.layer_norm_rms_epsilon")
	if err != nil {
		return nil, err
	}
	p.RMSNormEps = float32(eps)
	if p.RopeFreqBase, err = f.optFloat32("llama.rope.freq_base", 10000); err != nil {
		return nil, err
	}
	if p.RopeDimensionCount, err = f.optHyper("llama.rope.dimension_count", p.HeadDim); err != nil {
		return nil, err
	}
	if p.RopeScaling, err = f.ropeScaling(); err != nil {
		return nil, err
	}
	if p.Tokenizer, err = f.tokenizer(); err != nil {
		return nil, err
	}
	p.TieWordEmbeddings = !f.hasTensor("output.weight")
	if p.VocabSize, err = f.vocabSize(len(p.Tokenizer.Tokens)); err != nil {
		return nil, err
	}
	return p, nil
}

// llamaHeads checks the architecture and reads the attention head counts.
func (f *File) llamaHeads() (arch string, heads, kvHeads int, err error) {
	if arch, err = f.String("general.architecture"); err != nil {
		return "", 0, 0, err
	}
	if arch != "llama" {
		return "", 0, 0, fmt.Errorf("gguf: %s: general.architecture is %q, want \"llama\"", f.Path, arch)
	}
	if heads, err = f.hyper("llama.attention.head_count"); err != nil {
		return "", 0, 0, err
	}
	if heads == 0 {
		return "", 0, 0, fmt.Errorf("gguf: %s: llama.attention.head_count is 0", f.Path)
	}
	if kvHeads, err = f.optHyper("llama.attention.head_count_kv", heads); err != nil {
		return "", 0, 0, err
	}
	if kvHeads == 0 || heads%kvHeads != 0 {
		return "", 0, 0, fmt.Errorf("gguf: %s: llama.attention.head_count_kv %d does not divide head_count %d", f.Path, kvHeads, heads)
	}
	return arch, heads, kvHeads, nil
}

func (f *File) hasTensor(name string) bool {
	_, ok := f.tensorIndex[name]
	return ok
}

// vocabSize picks llama.vocab_size, the token count or token_embd's rows.
func (f *File) vocabSize(nTokens int) (int, error) {
	if f.Has("llama.vocab_size") {
		return f.hyper("llama.vocab_size")
	}
	if nTokens > 0 {
		return nTokens, nil
	}
	if ti, err := f.Tensor("token_embd.weight"); err == nil && len(ti.Dims) == 2 {
		return int(ti.Dims[1]), nil
	}
	return 0, fmt.Errorf("gguf: %s: no llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight to size the vocabulary", f.Path)
}

func (f *File) ropeScaling() (RopeScaling, error) {
	var rs RopeScaling
	var err error
	if rs.Type, err = f.optString("llama.rope.scaling.type"); err != nil {
		return rs, err
	}
	if rs.Factor, err = f.optFloat32("llama.rope.scaling.factor", 0); err != nil {
		return rs, err
	}
	if !f.Has("llama.rope.scaling.factor") && f.Has("llama.rope.scale_linear") {
		if rs.Factor, err = f.optFloat32("llama.rope.scale_linear", 0); err != nil {
			return rs, err
		}
		if rs.Type == "" {
			rs.Type = "linear"
		}
	}
	if rs.OriginalContextLength, err = f.optHyper("llama.rope.scaling.original_context_length", 0); err != nil {
		return rs, err
	}
	if rs.AttnFactor, err = f.optFloat32("llama.rope.scaling.attn_factor", 0); err != nil {
		return rs, err
	}
	if rs.Finetuned, err = f.optBool("llama.rope.scaling.finetuned", false); err != nil {
		return rs, err
	}
	return rs, nil
}

func (f *File) tokenizer() (Tokenizer, error) {
	t := Tokenizer{BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	var err error
	if t.Model, err = f.optString("tokenizer.ggml.model"); err != nil {
		return t, err
	}
	if t.Pre, err = f.optString("tokenizer.ggml.pre"); err != nil {
		return t, err
	}
	if t.ChatTemplate, err = f.optString("tokenizer.chat_template"); err != nil {
		return t, err
	}
	if f.Has("tokenizer.ggml.tokens") {
		if t.Tokens, err = f.Strings("tokenizer.ggml.tokens"); err != nil {
			return t, err
		}
	}
	n := len(t.Tokens)
	if f.Has("tokenizer.ggml.scores") {
		if t.Scores, err = f.Float32s("tokenizer.ggml.scores"); err != nil {
			return t, err
		}
		if len(t.Scores) != n {
			return t, fmt.Errorf("gguf: %s: tokenizer.ggml.scores has %d entries for %d tokens", f.Path, len(t.Scores), n)
		}
	}
	if f.Has("tokenizer.ggml.token_type") {
		if t.TokenTypes, err = f.Int32s("tokenizer.ggml.token_type"); err != nil {
			return t, err
		}
		if len(t.TokenTypes) != n {
			return t, fmt.Errorf("gguf: %s: tokenizer.ggml.token_type has %d entries for %d tokens", f.Path, len(t.TokenTypes), n)
		}
	}
	if f.Has("tokenizer.ggml.merges") {
		if t.Merges, err = f.Strings("tokenizer.ggml.merges"); err != nil {
			return t, err
		}
	}
	ids := []struct {
		key string
		dst *int
	}{
		{"tokenizer.ggml.bos_token_id", &t.BOS},
		{"tokenizer.ggml.eos_token_id", &t.EOS},
		{"tokenizer.ggml.unknown_token_id", &t.UNK},
		{"tokenizer.ggml.padding_token_id", &t.PAD},
	}
	for _, id := range ids {
		if !f.Has(id.key) {
			continue
		}
		u, err := f.Uint(id.key)
		if err != nil {
			return t, err
		}
		if n > 0 && u >= uint64(n) {
			return t, fmt.Errorf("gguf: %s: %s %d is out of range for %d tokens", f.Path, id.key, u, n)
		}
		if u >= maxHyper {
			return t, fmt.Errorf("gguf: %s: %s %d is out of range", f.Path, id.key, u)
		}
		*id.dst = int(u)
	}
	if t.AddBOS, err = f.optBool("tokenizer.ggml.add_bos_token", t.Model == "llama"); err != nil {
		return t, err
	}
	if t.AddEOS, err = f.optBool("tokenizer.ggml.add_eos_token", false); err != nil {
		return t, err
	}
	return t, nil
}

// hyper reads a required non-negative integer below maxHyper.
func (f *File) hyper(key string) (int, error) {
	u, err := f.Uint(key)
	if err != nil {
		return 0, err
	}
	if u >= maxHyper {
		return 0, fmt.Errorf("gguf: %s: metadata key %q value %d is implausibly large", f.Path, key, u)
	}
	return int(u), nil
}

func (f *File) optHyper(key string, def int) (int, error) {
	if !f.Has(key) {
		return def, nil
	}
	return f.hyper(key)
}

func (f *File) optString(key string) (string, error) {
	s, err := f.String(key)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return s, err
}

func (f *File) optBool(key string, def bool) (bool, error) {
	b, err := f.Bool(key)
	if errors.Is(err, ErrNotFound) {
		return def, nil
	}
	return b, err
}

func (f *File) optFloat32(key string, def float32) (float32, error) {
	x, err := f.Float(key)
	if errors.Is(err, ErrNotFound) {
		return def, nil
	}
	if err != nil {
		return 0, err
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("gguf: %s: metadata key %q is %v", f.Path, key, x)
	}
	return float32(x), nil
}
