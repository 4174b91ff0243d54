package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token matched verbatim in the input before any other processing, as in Hugging Face's
// added_tokens (special tokens such as <s>, <|endoftext|>, <mask>).
type AddedToken struct {
	// Content is the literal text of the token.
	Content string
	// ID is the token id.
	ID int
	// Special tokens are dropped by Decode(ids, true) and are not matched by EncodeLiteral.
	Special bool
	// LStrip and RStrip make the match absorb the whitespace on its left or right (RoBERTa's <mask>).
	LStrip, RStrip bool
	// SingleWord only matches the token when it is not inside a word.
	SingleWord bool
	// Normalized tokens are matched in the normalized text instead of the raw text.
	Normalized bool
	// Unmatched tokens are never recognised in the text (only added by post-processing or decoded).
	Unmatched bool
}

// segment is a piece of the input: either text still to tokenize (id < 0) or a matched added token.
type segment struct {
	text string
	id   int
}

// tokenMatcher finds added tokens with leftmost-longest semantics (Hugging Face uses an Aho-Corasick
// automaton with MatchKind::LeftmostLongest).
type tokenMatcher struct {
	tokens  []*AddedToken
	pats    []string       // the text each token is matched as
	byFirst map[byte][]int // first byte -> indices into tokens, longest pattern first
}

func newTokenMatcher(tokens []*AddedToken, pattern func(*AddedToken) string) *tokenMatcher {
	m := &tokenMatcher{byFirst: map[byte][]int{}}
	pats := make([]string, 0, len(tokens))
	for _, t := range tokens {
		p := pattern(t)
		if p == "" || t.Unmatched {
			continue
		}
		m.tokens = append(m.tokens, t)
		pats = append(pats, p)
	}
	m.pats = pats
	for i, p := range pats {
		m.byFirst[p[0]] = append(m.byFirst[p[0]], i)
	}
	for _, idx := range m.byFirst {
		sort.SliceStable(idx, func(a, b int) bool { return len(pats[idx[a]]) > len(pats[idx[b]]) })
	}
	return m
}

// find returns the leftmost-longest match at or after byte from: token index and byte span, or -1.
func (m *tokenMatcher) find(s string, from int) (int, int, int) {
	for i := from; i < len(s); i++ {
		for _, k := range m.byFirst[s[i]] {
			if p := m.pats[k]; len(s)-i >= len(p) && s[i:i+len(p)] == p {
				return k, i, i + len(p)
			}
		}
	}
	return -1, 0, 0
}

// matchAt returns the length of the longest pattern that starts at byte i of s, or 0.
func (m *tokenMatcher) matchAt(s string, i int) int {
	for _, k := range m.byFirst[s[i]] {
		p := m.pats[k]
		if len(s)-i >= len(p) && s[i:i+len(p)] == p {
			return len(p)
		}
	}
	return 0
}

// split cuts s at the added tokens it contains, applying each token's single_word, lstrip and rstrip rules
// exactly as Hugging Face's AddedVocabulary::find_matches does. Special tokens are ignored when
// skipSpecial is set. Empty text segments are dropped.
func (m *tokenMatcher) split(s string, skipSpecial bool, out []segment) []segment {
	if m == nil || len(m.tokens) == 0 {
		if s != "" {
			out = append(out, segment{text: s, id: -1})
		}
		return out
	}
	offset := 0
	for from := 0; from < len(s); {
		k, start, stop := m.find(s, from)
		if k < 0 {
			break
		}
		from = stop
		t := m.tokens[k]
		if skipSpecial && t.Special {
			continue
		}
		if t.SingleWord {
			startOK := start == 0 || !endsWithWord(s[:start])
			stopOK := stop == len(s) || !startsWithWord(s[stop:])
			if !startOK || !stopOK {
				continue
			}
		}
		if t.LStrip {
			start = max(trailingSpaceStart(s[:start]), offset)
		}
		if t.RStrip {
			stop += leadingSpaceLen(s[stop:])
		}
		start = max(start, offset)
		if offset < start {
			out = append(out, segment{text: s[offset:start], id: -1})
		}
		out = append(out, segment{text: s[start:stop], id: t.ID})
		offset = stop
	}
	if offset < len(s) {
		out = append(out, segment{text: s[offset:], id: -1})
	}
	return out
}

// isWordRune approximates \w of Rust's regex: alphabetic, marks, decimal digits, connector punctuation and
// the zero-width joiners.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.M, r) ||
		unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordRune(r)
}

// trailingSpaceStart returns where the whitespace at the end of s begins (len(s) when there is none).
func trailingSpaceStart(s string) int {
	i := len(s)
	for i > 0 {
		r, w := utf8.DecodeLastRuneInString(s[:i])
		if !isSpace(r) {
			break
		}
		i -= w
	}
	return i
}

// leadingSpaceLen returns the byte length of the whitespace at the start of s.
func leadingSpaceLen(s string) int {
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isSpace(r) {
			break
		}
		i += w
	}
	return i
}
