package tokenizer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// spaceSymbol is SentencePiece's whitespace marker U+2581 ("▁").
const spaceSymbol = "\u2581"

// normalizer rewrites one text segment (the text between added tokens) before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

// normSequence applies normalizers in order (Hugging Face "Sequence").
type normSequence []normalizer

func (n normSequence) normalize(s string) string {
	for _, m := range n {
		s = m.normalize(s)
	}
	return s
}

// normPrepend prepends a string to non-empty text (Hugging Face "Prepend", used by Llama for "▁").
type normPrepend string

func (n normPrepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return string(n) + s
}

// normReplace replaces every occurrence of a literal string (Hugging Face "Replace" with a String pattern).
type normReplace struct{ old, new string }

func (n normReplace) normalize(s string) string { return strings.ReplaceAll(s, n.old, n.new) }

// normReplaceRegex replaces every match of a regular expression (Hugging Face "Replace" with a Regex
// pattern, with Oniguruma's semantics: see compileOnig).
type normReplaceRegex struct {
	re  onigRegex
	new string
}

func (n normReplaceRegex) normalize(s string) string {
	var sb strings.Builder
	prev, matched := 0, false
	n.re.findAll(s, func(start, end int) {
		sb.WriteString(s[prev:start])
		sb.WriteString(n.new)
		prev, matched = end, true
	})
	if !matched {
		return s
	}
	sb.WriteString(s[prev:])
	return sb.String()
}

// normUnicode is one of the Unicode normalization forms (Hugging Face "NFC", "NFD", "NFKC", "NFKD").
type normUnicode struct{ form norm.Form }

func (n normUnicode) normalize(s string) string { return n.form.String(s) }

// normLowercase lower-cases the text (Hugging Face "Lowercase").
type normLowercase struct{}

func (normLowercase) normalize(s string) string { return strings.ToLower(s) }

// normStrip removes whitespace on the left and/or right (Hugging Face "Strip").
type normStrip struct{ left, right bool }

func (n normStrip) normalize(s string) string {
	if n.left {
		s = s[leadingSpaceLen(s):]
	}
	if n.right {
		s = s[:trailingSpaceStart(s)]
	}
	return s
}

// spNormalizer is SentencePiece's normalizer with the identity character map (Llama's "identity" rule):
// optional removal of extra spaces, the dummy "▁" prefix (or suffix), and ' ' -> '▁'.
type spNormalizer struct {
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
	treatWhitespaceSuffix  bool
}

func (n spNormalizer) normalize(s string) string {
	if n.removeExtraWhitespaces {
		s = strings.TrimLeft(s, " ")
	}
	if s == "" {
		return s
	}
	space := " "
	if n.escapeWhitespaces {
		space = spaceSymbol
	}
	var sb strings.Builder
	sb.Grow(len(s) + 3*strings.Count(s, " ") + 3)
	if n.addDummyPrefix && !n.treatWhitespaceSuffix {
		sb.WriteString(space)
	}
	prevSpace := n.removeExtraWhitespaces
	for i := 0; i < len(s); {
		_, w := utf8.DecodeRuneInString(s[i:])
		ch := s[i : i+w]
		i += w
		if ch == " " {
			if prevSpace {
				continue
			}
			sb.WriteString(space)
			prevSpace = n.removeExtraWhitespaces
			continue
		}
		sb.WriteString(ch)
		prevSpace = false
	}
	out := sb.String()
	if n.removeExtraWhitespaces {
		for strings.HasSuffix(out, space) {
			out = out[:len(out)-len(space)]
		}
	}
	if n.addDummyPrefix && n.treatWhitespaceSuffix {
		out += space
	}
	return out
}
