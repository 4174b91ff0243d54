package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// hfFile is the layout of a Hugging Face tokenizer.json.
type hfFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type hfModel struct {
	Type                    string            `json:"type"`
	Vocab                   map[string]int    `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	Dropout                 *float64          `json:"dropout"`
}

// hfPattern is the {"String": ...} or {"Regex": ...} pattern of Replace and Split.
type hfPattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// hfComponent is the union of the fields of the normalizers, pre-tokenizers, post-processors and
// decoders this package supports.
type hfComponent struct {
	Type string `json:"type"`
	// Sequence members.
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      []json.RawMessage `json:"decoders"`
	// Normalizers and decoders.
	Prepend    string          `json:"prepend"`
	Pattern    hfPattern       `json:"pattern"`
	Content    json.RawMessage `json:"content"`
	StripLeft  *bool           `json:"strip_left"`
	StripRight *bool           `json:"strip_right"`
	Start      int             `json:"start"`
	Stop       int             `json:"stop"`
	// Pre-tokenizers.
	AddPrefixSpace   *bool  `json:"add_prefix_space"`
	UseRegex         *bool  `json:"use_regex"`
	IndividualDigits bool   `json:"individual_digits"`
	Replacement      string `json:"replacement"`
	PrependScheme    string `json:"prepend_scheme"`
	Split            *bool  `json:"split"`
	Behavior         string `json:"behavior"`
	Invert           bool   `json:"invert"`
	// Post-processors.
	Sep           []json.RawMessage `json:"sep"`
	Cls           []json.RawMessage `json:"cls"`
	Single        []hfTemplateItem  `json:"single"`
	Pair          []hfTemplateItem  `json:"pair"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

type hfTemplateItem struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"Sequence"`
}

// LoadTokenizerJSON loads a Hugging Face tokenizer.json (BPE models: GPT-2, RoBERTa, Llama, SmolLM2, ...).
// The bos/eos/pad/unk tokens come from tokenizer_config.json or special_tokens_map.json next to it when
// present, otherwise from the post-processor and the usual token names. When tokenizer_config.json names a
// Llama tokenizer class, its add_bos_token/add_eos_token settings rebuild the post-processor, as
// LlamaTokenizerFast does.
func LoadTokenizerJSON(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := readTokenizerConfig(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	return parseTokenizerJSON(path, data, cfg)
}

// ParseTokenizerJSON builds a tokenizer from the contents of a tokenizer.json; name is used in errors.
func ParseTokenizerJSON(name string, data []byte) (*Pipeline, error) {
	return parseTokenizerJSON(name, data, nil)
}

func parseTokenizerJSON(name string, data []byte, cfg *tokenizerConfig) (*Pipeline, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var head struct {
		Type   string          `json:"type"`
		Merges json.RawMessage `json:"merges"`
	}
	if err := json.Unmarshal(f.Model, &head); err != nil {
		return nil, fmt.Errorf("%s: model: %w", name, err)
	}
	if head.Type != "BPE" && !(head.Type == "" && head.Merges != nil) {
		return nil, fmt.Errorf("%s: model type %q is not supported (only BPE)", name, head.Type)
	}
	var hm hfModel
	if err := json.Unmarshal(f.Model, &hm); err != nil {
		return nil, fmt.Errorf("%s: model: %w", name, err)
	}
	if hm.Dropout != nil && *hm.Dropout > 0 {
		return nil, fmt.Errorf("%s: model.dropout %v: BPE dropout is not supported", name, *hm.Dropout)
	}
	merges := make([][2]string, len(hm.Merges))
	for i, raw := range hm.Merges {
		var s string
		var pair []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			p, ok := parseMerge(s)
			if !ok {
				return nil, fmt.Errorf("%s: model.merges[%d] %q: want two tokens separated by one space", name, i, s)
			}
			merges[i] = p
		case json.Unmarshal(raw, &pair) == nil && len(pair) == 2:
			merges[i] = [2]string{pair[0], pair[1]}
		default:
			return nil, fmt.Errorf("%s: model.merges[%d]: want a string or a pair of strings", name, i)
		}
	}
	opts := bpeOptions{fuseUnk: hm.FuseUnk, byteFallback: hm.ByteFallback, ignoreMerges: hm.IgnoreMerges}
	if hm.UnkToken != nil {
		opts.unk = *hm.UnkToken
	}
	if hm.ContinuingSubwordPrefix != nil {
		opts.contPrefix = *hm.ContinuingSubwordPrefix
	}
	if hm.EndOfWordSuffix != nil {
		opts.endSuffix = *hm.EndOfWordSuffix
	}
	bpe, err := newBPEModel(name, hm.Vocab, merges, opts)
	if err != nil {
		return nil, err
	}

	parts := pipelineParts{name: name, vocab: hm.Vocab, model: bpe, bos: NoToken, eos: NoToken, pad: NoToken,
		unk: bpe.unk}
	for _, a := range f.AddedTokens {
		parts.added = append(parts.added, &AddedToken{Content: a.Content, ID: a.ID, Special: a.Special,
			LStrip: a.LStrip, RStrip: a.RStrip, SingleWord: a.SingleWord, Normalized: a.Normalized})
	}
	if parts.norm, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("%s: normalizer: %w", name, err)
	}
	if parts.pre, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, fmt.Errorf("%s: pre_tokenizer: %w", name, err)
	}
	lookup := func(tok string) (int, bool) {
		for _, a := range parts.added {
			if a.Content == tok {
				return a.ID, true
			}
		}
		id, ok := hm.Vocab[tok]
		return id, ok
	}
	var cls, sep int
	if parts.post, cls, sep, err = parsePostProcessor(f.PostProcessor, lookup); err != nil {
		return nil, fmt.Errorf("%s: post_processor: %w", name, err)
	}
	if parts.dec, err = parseDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("%s: decoder: %w", name, err)
	}
	if err := resolveSpecials(&parts, cfg, lookup, cls, sep); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return newPipeline(parts)
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq normSequence
		for i, r := range c.Normalizers {
			n, err := parseNormalizer(r)
			if err != nil {
				return nil, fmt.Errorf("normalizers[%d]: %w", i, err)
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	case "Prepend":
		return normPrepend(c.Prepend), nil
	case "Replace":
		var content string
		if err := json.Unmarshal(c.Content, &content); err != nil {
			return nil, fmt.Errorf("Replace.content: %w", err)
		}
		switch {
		case c.Pattern.String != nil:
			return normReplace{*c.Pattern.String, content}, nil
		case c.Pattern.Regex != nil:
			re, err := compileOnig(*c.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("Replace: %w", err)
			}
			return normReplaceRegex{re, content}, nil
		}
		return nil, errors.New("Replace without a pattern")
	case "Lowercase":
		return normLowercase{}, nil
	case "NFC":
		return normUnicode{norm.NFC}, nil
	case "NFD":
		return normUnicode{norm.NFD}, nil
	case "NFKC":
		return normUnicode{norm.NFKC}, nil
	case "NFKD":
		return normUnicode{norm.NFKD}, nil
	case "Strip":
		return normStrip{left: c.StripLeft == nil || *c.StripLeft, right: c.StripRight == nil || *c.StripRight}, nil
	}
	return nil, fmt.Errorf("normalizer type %q is not supported", c.Type)
}

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq preSequence
		for i, r := range c.Pretokenizers {
			p, err := parsePreTokenizer(r)
			if err != nil {
				return nil, fmt.Errorf("pretokenizers[%d]: %w", i, err)
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "ByteLevel":
		return preByteLevel{addPrefixSpace: c.AddPrefixSpace != nil && *c.AddPrefixSpace,
			useRegex: c.UseRegex == nil || *c.UseRegex}, nil
	case "Digits":
		return preDigits{individual: c.IndividualDigits}, nil
	case "Split":
		behavior, ok := splitBehaviors[c.Behavior]
		if !ok {
			return nil, fmt.Errorf("Split behavior %q is not supported", c.Behavior)
		}
		var re onigRegex
		switch {
		case c.Pattern.String != nil:
			re = literalPattern(*c.Pattern.String)
		case c.Pattern.Regex != nil:
			var err error
			if re, err = compileOnig(*c.Pattern.Regex); err != nil {
				return nil, fmt.Errorf("Split: %w", err)
			}
		default:
			return nil, errors.New("Split without a pattern")
		}
		return preSplit{re: re, behavior: behavior, invert: c.Invert}, nil
	case "Metaspace":
		scheme, err := metaspaceScheme(c)
		if err != nil {
			return nil, err
		}
		rep := c.Replacement
		if utf8.RuneCountInString(rep) != 1 {
			return nil, fmt.Errorf("Metaspace replacement %q: want one character", rep)
		}
		return preMetaspace{replacement: rep, prepend: scheme, splitWords: c.Split == nil || *c.Split}, nil
	}
	return nil, fmt.Errorf("pre-tokenizer type %q is not supported", c.Type)
}

// metaspaceScheme reads prepend_scheme, or the older add_prefix_space flag.
func metaspaceScheme(c hfComponent) (prependScheme, error) {
	switch c.PrependScheme {
	case "always":
		return prependAlways, nil
	case "first":
		return prependFirst, nil
	case "never":
		return prependNever, nil
	case "":
		if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			return prependNever, nil
		}
		return prependAlways, nil
	}
	return 0, fmt.Errorf("Metaspace prepend_scheme %q is not supported", c.PrependScheme)
}

// parsePostProcessor returns the template and, for RobertaProcessing/BertProcessing, the cls and sep ids
// (NoToken otherwise).
func parsePostProcessor(raw json.RawMessage, lookup func(string) (int, bool)) (template, int, int, error) {
	if isNull(raw) {
		return plainTemplate(), NoToken, NoToken, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return template{}, NoToken, NoToken, err
	}
	switch c.Type {
	case "ByteLevel":
		return plainTemplate(), NoToken, NoToken, nil
	case "RobertaProcessing", "BertProcessing":
		cls, err := tokenPair(c.Cls, "cls")
		if err != nil {
			return template{}, NoToken, NoToken, err
		}
		sep, err := tokenPair(c.Sep, "sep")
		if err != nil {
			return template{}, NoToken, NoToken, err
		}
		if c.Type == "BertProcessing" {
			return bertTemplate(cls, sep), cls, sep, nil
		}
		return robertaTemplate(cls, sep), cls, sep, nil
	case "TemplateProcessing":
		single, err := templateItems(c, c.Single, lookup)
		if err != nil {
			return template{}, NoToken, NoToken, fmt.Errorf("single: %w", err)
		}
		pair, err := templateItems(c, c.Pair, lookup)
		if err != nil {
			return template{}, NoToken, NoToken, fmt.Errorf("pair: %w", err)
		}
		t := template{single: single, pair: pair}
		if len(t.pair) == 0 {
			t.pair = plainTemplate().pair
		}
		return t, NoToken, NoToken, nil
	case "Sequence":
		t, cls, sep := plainTemplate(), NoToken, NoToken
		for i, r := range c.Processors {
			sub, subCls, subSep, err := parsePostProcessor(r, lookup)
			if err != nil {
				return template{}, NoToken, NoToken, fmt.Errorf("processors[%d]: %w", i, err)
			}
			if sub.added(false) > 0 || sub.added(true) > 0 {
				t, cls, sep = sub, subCls, subSep
			}
		}
		return t, cls, sep, nil
	}
	return template{}, NoToken, NoToken, fmt.Errorf("post-processor type %q is not supported", c.Type)
}

// tokenPair reads ["<s>", 0].
func tokenPair(raw []json.RawMessage, field string) (int, error) {
	var id int
	if len(raw) != 2 || json.Unmarshal(raw[1], &id) != nil {
		return NoToken, fmt.Errorf("%s: want [token, id]", field)
	}
	return id, nil
}

func templateItems(c hfComponent, items []hfTemplateItem, lookup func(string) (int, bool)) ([]templatePiece, error) {
	var out []templatePiece
	for i, it := range items {
		switch {
		case it.Sequence != nil:
			seq := 0
			if it.Sequence.ID == "B" {
				seq = 1
			}
			out = append(out, templatePiece{seq: seq, typeID: it.Sequence.TypeID})
		case it.SpecialToken != nil:
			ids := c.SpecialTokens[it.SpecialToken.ID].IDs
			if len(ids) == 0 {
				id, ok := lookup(it.SpecialToken.ID)
				if !ok {
					return nil, fmt.Errorf("item %d: special token %q unknown", i, it.SpecialToken.ID)
				}
				ids = []int{id}
			}
			out = append(out, templatePiece{ids: ids, typeID: it.SpecialToken.TypeID})
		default:
			return nil, fmt.Errorf("item %d: want SpecialToken or Sequence", i)
		}
	}
	return out, nil
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	if isNull(raw) {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var seq decSequence
		for i, r := range c.Decoders {
			d, err := parseDecoder(r)
			if err != nil {
				return nil, fmt.Errorf("decoders[%d]: %w", i, err)
			}
			if d != nil {
				seq = append(seq, d)
			}
		}
		return seq, nil
	case "ByteLevel":
		return decByteLevel{}, nil
	case "ByteFallback":
		return decByteFallback{}, nil
	case "Fuse":
		return decFuse{}, nil
	case "Replace":
		var content string
		if err := json.Unmarshal(c.Content, &content); err != nil {
			return nil, fmt.Errorf("Replace.content: %w", err)
		}
		if c.Pattern.String == nil {
			return nil, errors.New("Replace decoder: only String patterns are supported")
		}
		return decReplace{*c.Pattern.String, content}, nil
	case "Strip":
		var content string
		if err := json.Unmarshal(c.Content, &content); err != nil || utf8.RuneCountInString(content) != 1 {
			return nil, fmt.Errorf("Strip.content %s: want one character", c.Content)
		}
		r, _ := utf8.DecodeRuneInString(content)
		return decStrip{content: r, start: c.Start, stop: c.Stop}, nil
	case "Metaspace":
		scheme, err := metaspaceScheme(c)
		if err != nil {
			return nil, err
		}
		r, _ := utf8.DecodeRuneInString(c.Replacement)
		return decMetaspace{replacement: r, prepend: scheme}, nil
	}
	return nil, fmt.Errorf("decoder type %q is not supported", c.Type)
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}
