package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// GPT2Pattern is the pre-tokenization pattern of GPT-2's byte-level BPE (also RoBERTa's and SmolLM2's).
// Go's regexp has no lookahead, so splitGPT2 implements it by hand.
const GPT2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// charClass is the class of a rune as the GPT-2 pattern sees it.
type charClass uint8

const (
	classOther charClass = iota // [^\s\p{L}\p{N}]
	classLetter
	classNumber
	classSpace
)

// isSpace is \s of Oniguruma and Rust's regex on Unicode text: the White_Space property
// (U+0009-U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
func isSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

func classOf(r rune) charClass {
	switch {
	case isSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

// splitGPT2 appends to out the consecutive matches of GPT2Pattern in s, which cover all of s.
func splitGPT2(s string, out []string) []string {
	for i := 0; i < len(s); {
		n := matchGPT2(s, i)
		out = append(out, s[i:i+n])
		i += n
	}
	return out
}

// matchGPT2 returns the length of the match of GPT2Pattern at byte i of s (always > 0), trying the
// alternatives in order as a backtracking regex engine does.
func matchGPT2(s string, i int) int {
	r, w := utf8.DecodeRuneInString(s[i:])
	// 's|'t|'re|'ve|'m|'ll|'d
	if r == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return 3
			}
		}
	}
	cls := classOf(r)
	// ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional single space, then a run of one class.
	if r == ' ' && i+w < len(s) {
		r2, _ := utf8.DecodeRuneInString(s[i+w:])
		if c2 := classOf(r2); c2 != classSpace {
			return runOf(s, i+w, c2) - i
		}
	}
	if cls != classSpace {
		return runOf(s, i, cls) - i
	}
	// '\s+(?!\S)': the whitespace run, less its last rune when a non-space follows it.
	// '\s+': a single whitespace rune followed by a non-space.
	end := runOf(s, i, classSpace)
	if end == len(s) {
		return end - i
	}
	_, lastW := utf8.DecodeLastRuneInString(s[:end])
	if end-lastW > i {
		return end - lastW - i
	}
	return end - i
}

// runOf returns the end of the run of runes of class c starting at byte i.
func runOf(s string, i int, c charClass) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if classOf(r) != c {
			break
		}
		i += w
	}
	return i
}
