package tokenizer

import (
	"fmt"
	"sort"
	"strings"
)

// Pipeline is a tokenizer assembled the way Hugging Face's tokenizers library assembles one: split on added
// tokens, normalize, pre-tokenize, run the BPE model on every word, post-process (special tokens), and a
// decoder chain for the way back. All constructors of this package return a *Pipeline; it is safe for
// concurrent use.
type Pipeline struct {
	name    string
	vocab   map[string]int
	tokens  []string // id -> token, including added tokens; "" for unused ids
	added   map[int]*AddedToken
	byText  map[string]int // added token content -> id
	rawTok  *tokenMatcher  // added tokens matched in the raw text
	normTok *tokenMatcher  // added tokens matched in the normalized text
	norm    normalizer     // nil: identity
	pre     preTokenizer
	model   model
	post    template
	dec     decoder

	bos, eos, pad, unk int
}

// pipelineParts is what a loader provides to newPipeline.
type pipelineParts struct {
	name  string
	vocab map[string]int
	added []*AddedToken
	norm  normalizer
	pre   preTokenizer
	model model
	post  template
	dec   decoder
	bos   int
	eos   int
	pad   int
	unk   int
}

// maxTokenID bounds the ids a vocabulary may use (the id -> token table is dense).
const maxTokenID = 1 << 24

func newPipeline(p pipelineParts) (*Pipeline, error) {
	t := &Pipeline{name: p.name, vocab: p.vocab, added: map[int]*AddedToken{},
		byText: map[string]int{}, norm: p.norm, pre: p.pre,
		model: p.model, post: p.post, dec: p.dec, bos: p.bos, eos: p.eos, pad: p.pad, unk: p.unk}
	if t.pre == nil {
		t.pre = preNone{}
	}
	size := 0
	for tok, id := range p.vocab {
		if id < 0 || id > maxTokenID {
			return nil, fmt.Errorf("%s: token %q has id %d outside [0, %d]", p.name, tok, id, maxTokenID)
		}
		size = max(size, id+1)
	}
	for _, a := range p.added {
		if a.ID < 0 || a.ID > maxTokenID {
			return nil, fmt.Errorf("%s: added token %q has id %d outside [0, %d]", p.name, a.Content, a.ID, maxTokenID)
		}
		size = max(size, a.ID+1)
	}
	t.tokens = make([]string, size)
	for tok, id := range p.vocab {
		t.tokens[id] = tok
	}
	var raw, normed []*AddedToken
	for _, a := range p.added {
		t.added[a.ID] = a
		if _, dup := t.byText[a.Content]; !dup {
			t.byText[a.Content] = a.ID
		}
		t.tokens[a.ID] = a.Content
		if a.Normalized {
			normed = append(normed, a)
		} else {
			raw = append(raw, a)
		}
	}
	// Later duplicates of the same content must not shadow earlier ones in the matchers: keep the
	// order stable by id.
	sort.SliceStable(raw, func(i, j int) bool { return raw[i].ID < raw[j].ID })
	sort.SliceStable(normed, func(i, j int) bool { return normed[i].ID < normed[j].ID })
	t.rawTok = newTokenMatcher(raw, func(a *AddedToken) string { return a.Content })
	t.normTok = newTokenMatcher(normed, func(a *AddedToken) string {
		if t.norm == nil {
			return a.Content
		}
		return t.norm.normalize(a.Content)
	})
	if t.pad == NoToken {
		t.pad = t.eos
	}
	return t, nil
}

// Name identifies where the tokenizer was loaded from.
func (t *Pipeline) Name() string { return t.name }

// tokenizeText encodes text without post-processing. With literal, special added tokens in the text are
// not recognised (Hugging Face's split_special_tokens=True, and sentencepiece's own behaviour).
func (t *Pipeline) tokenizeText(text string, literal bool) []int {
	var out []int
	var words []string
	for i, seg := range t.rawTok.split(text, literal, nil) {
		if seg.id >= 0 {
			out = append(out, seg.id)
			continue
		}
		atStart := i == 0
		s := seg.text
		if t.norm != nil {
			s = t.norm.normalize(s)
		}
		for j, sub := range t.normTok.split(s, literal, nil) {
			if sub.id >= 0 {
				out = append(out, sub.id)
				continue
			}
			words = t.pre.split(sub.text, atStart && j == 0, words[:0])
			for _, w := range words {
				out = t.model.tokenize(w, out)
			}
		}
	}
	return out
}

// Encode returns the ids [T] of text; addSpecial adds the model's special tokens.
func (t *Pipeline) Encode(text string, addSpecial bool) []int {
	return t.post.apply(t.tokenizeText(text, false), nil, false, addSpecial).IDs
}

// EncodeLiteral is Encode with special tokens in the text treated as plain text (Hugging Face's
// split_special_tokens=True; sentencepiece's behaviour). Non-special added tokens are still matched.
func (t *Pipeline) EncodeLiteral(text string, addSpecial bool) []int {
	return t.post.apply(t.tokenizeText(text, true), nil, false, addSpecial).IDs
}

// EncodePair encodes a sentence pair, with type ids.
func (t *Pipeline) EncodePair(a, b string, addSpecial bool) Encoding {
	return t.post.apply(t.tokenizeText(a, false), t.tokenizeText(b, false), true, addSpecial)
}

// Decode turns ids back into text with the tokenizer's decoder chain. Unknown ids are skipped; with
// skipSpecial, special added tokens are dropped. Hugging Face's clean_up_tokenization_spaces is not
// applied (it is off for Llama and alters text).
func (t *Pipeline) Decode(ids []int, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) {
			continue
		}
		if a, ok := t.added[id]; ok {
			if skipSpecial && a.Special {
				continue
			}
			toks = append(toks, a.Content)
			continue
		}
		if t.tokens[id] == "" {
			continue
		}
		toks = append(toks, t.tokens[id])
	}
	if t.dec == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.dec.decodeChain(toks), "")
}

// TokenID returns the id of a token string.
func (t *Pipeline) TokenID(token string) (int, bool) {
	if id, ok := t.byText[token]; ok {
		return id, true
	}
	id, ok := t.vocab[token]
	return id, ok
}

// Token returns the string of an id.
func (t *Pipeline) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.tokens) || t.tokens[id] == "" {
		return "", false
	}
	return t.tokens[id], true
}

// VocabSize is one more than the largest id.
func (t *Pipeline) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence id (RoBERTa's <s>, Llama's <s>, GPT-2's <|endoftext|>), or NoToken.
func (t *Pipeline) BOS() int { return t.bos }

// EOS is the end-of-sequence id (</s>, <|endoftext|>), or NoToken.
func (t *Pipeline) EOS() int { return t.eos }

// PAD is the padding id; EOS when the vocabulary has no pad token.
func (t *Pipeline) PAD() int { return t.pad }

// UNK is the unknown-token id, or NoToken.
func (t *Pipeline) UNK() int { return t.unk }

// AddedTokens returns the added (special and user) tokens, sorted by id.
func (t *Pipeline) AddedTokens() []AddedToken {
	out := make([]AddedToken, 0, len(t.added))
	for _, a := range t.added {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SetPAD sets the padding id used by the batch encoders (NoToken is rejected by them). Call it before the
// tokenizer is shared between goroutines.
func (t *Pipeline) SetPAD(id int) { t.pad = id }
