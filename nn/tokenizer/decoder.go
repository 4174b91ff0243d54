package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// decoder is one step of Hugging Face's decoder chain: it maps token strings to new token strings; the
// final strings are concatenated.
type decoder interface {
	decodeChain(tokens []string) []string
}

// decSequence applies decoders in order.
type decSequence []decoder

func (d decSequence) decodeChain(tokens []string) []string {
	for _, s := range d {
		tokens = s.decodeChain(tokens)
	}
	return tokens
}

// decByteLevel maps byte-level runes back to bytes and decodes them as UTF-8 (lossily).
type decByteLevel struct{}

func (decByteLevel) decodeChain(tokens []string) []string {
	var b []byte
	for _, t := range tokens {
		b = byteLevelBytes(t, b)
	}
	return []string{lossyUTF8(b)}
}

// decReplace replaces a literal string in every token.
type decReplace struct{ old, new string }

func (d decReplace) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = strings.ReplaceAll(t, d.old, d.new)
	}
	return out
}

// decByteFallback turns runs of <0xXX> tokens into the text they encode; a run that is not valid UTF-8
// becomes one U+FFFD per byte, as in Hugging Face.
type decByteFallback struct{}

func (decByteFallback) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// decFuse joins all tokens into one.
type decFuse struct{}

func (decFuse) decodeChain(tokens []string) []string { return []string{strings.Join(tokens, "")} }

// decStrip removes up to start leading and stop trailing occurrences of content from every token.
type decStrip struct {
	content     rune
	start, stop int
}

func (d decStrip) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rs := []rune(t)
		a, b := 0, len(rs)
		for a < d.start && a < b && rs[a] == d.content {
			a++
		}
		for k := 0; k < d.stop && b > a && rs[b-1] == d.content; k++ {
			b--
		}
		out[i] = string(rs[a:b])
	}
	return out
}

// decMetaspace turns '▁' back into spaces; in the first token it drops them instead, unless the prepend
// scheme is "never" (Hugging Face's Metaspace decoder).
type decMetaspace struct {
	replacement rune
	prepend     prependScheme
}

func (d decMetaspace) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		var sb strings.Builder
		for _, r := range t {
			switch {
			case r != d.replacement:
				sb.WriteRune(r)
			case i == 0 && d.prepend != prependNever:
			default:
				sb.WriteByte(' ')
			}
		}
		out[i] = sb.String()
	}
	return out
}

// llamaDecoder is the decoder of Llama's tokenizer.json: '▁' -> ' ', byte fallback, fuse, and the leading
// space of the dummy prefix stripped (when the model adds one).
func llamaDecoder(stripPrefix bool) decoder {
	d := decSequence{decReplace{spaceSymbol, " "}, decByteFallback{}, decFuse{}}
	if stripPrefix {
		d = append(d, decStrip{content: ' ', start: 1})
	}
	return d
}
