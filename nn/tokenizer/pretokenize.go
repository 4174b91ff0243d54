package tokenizer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// preTokenizer splits a normalized segment into the words that the model tokenizes independently.
type preTokenizer interface {
	// split appends the words of s to out; atStart tells whether s begins at offset 0 of the input text.
	split(s string, atStart bool, out []string) []string
}

// preNone keeps the segment whole (Llama's legacy tokenizer.json has no pre-tokenizer).
type preNone struct{}

func (preNone) split(s string, _ bool, out []string) []string {
	if s == "" {
		return out
	}
	return append(out, s)
}

// preSequence applies pre-tokenizers in order, each to every piece of the previous one.
type preSequence []preTokenizer

func (p preSequence) split(s string, atStart bool, out []string) []string {
	pieces := []string{s}
	first := []bool{atStart}
	for _, pt := range p {
		var next []string
		var nextFirst []bool
		for i, piece := range pieces {
			n := len(next)
			next = pt.split(piece, first[i], next)
			for j := n; j < len(next); j++ {
				nextFirst = append(nextFirst, first[i] && j == n)
			}
		}
		pieces, first = next, nextFirst
	}
	return append(out, pieces...)
}

// preByteLevel is Hugging Face's ByteLevel pre-tokenizer: an optional leading space, the GPT-2 split, then
// every byte mapped to its printable rune.
type preByteLevel struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p preByteLevel) split(s string, _ bool, out []string) []string {
	if s == "" {
		return out
	}
	if p.addPrefixSpace && !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	if !p.useRegex {
		return append(out, byteLevelEncode(s))
	}
	n := len(out)
	out = splitGPT2(s, out)
	for i := n; i < len(out); i++ {
		out[i] = byteLevelEncode(out[i])
	}
	return out
}

// preDigits isolates numeric runes (Hugging Face "Digits"): each one on its own when individual, else
// runs of them.
type preDigits struct{ individual bool }

func (p preDigits) split(s string, _ bool, out []string) []string {
	start := 0
	prevDigit := false
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		digit := unicode.IsNumber(r)
		if i > start && (digit != prevDigit || (digit && p.individual)) {
			out = append(out, s[start:i])
			start = i
		}
		prevDigit = digit
		i += w
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// prependScheme is when Metaspace adds the leading replacement character.
type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

// preMetaspace is Hugging Face's Metaspace pre-tokenizer: ' ' -> '▁', a leading '▁' (always, or only at the
// start of the input), and optionally a split before every '▁'.
type preMetaspace struct {
	replacement string
	prepend     prependScheme
	splitWords  bool
}

func (p preMetaspace) split(s string, atStart bool, out []string) []string {
	if s == "" {
		return out
	}
	s = strings.ReplaceAll(s, " ", p.replacement)
	if !strings.HasPrefix(s, p.replacement) &&
		(p.prepend == prependAlways || (p.prepend == prependFirst && atStart)) {
		s = p.replacement + s
	}
	if !p.splitWords {
		return append(out, s)
	}
	start := 0
	for {
		k := strings.Index(s[start+1:], p.replacement)
		if k < 0 {
			break
		}
		cut := start + 1 + k
		out = append(out, s[start:cut])
		start = cut
	}
	return append(out, s[start:])
}

// splitBehavior is what Hugging Face's Split does with the matches of its pattern.
type splitBehavior uint8

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

var splitBehaviors = map[string]splitBehavior{"Removed": splitRemoved, "Isolated": splitIsolated,
	"MergedWithPrevious": splitMergedWithPrevious, "MergedWithNext": splitMergedWithNext,
	"Contiguous": splitContiguous}

// splitSpan is a piece of the text: a match of the pattern or the text between two matches.
type splitSpan struct {
	start, end int
	match      bool
}

// preSplit is Hugging Face's Split pre-tokenizer (NormalizedString::split): the text is cut into the
// matches of a pattern and the text between them; with invert the two swap roles; behavior then removes
// the matches, isolates them, merges each with the piece before or after it, or merges runs of matches.
type preSplit struct {
	re       onigRegex
	behavior splitBehavior
	invert   bool
}

func (p preSplit) split(s string, _ bool, out []string) []string {
	if s == "" {
		return out
	}
	// Pattern::find_matches: the matches, and the non-empty gaps between them.
	var spans []splitSpan
	prev := 0
	p.re.findAll(s, func(start, end int) {
		if prev != start {
			spans = append(spans, splitSpan{prev, start, p.invert})
		}
		spans = append(spans, splitSpan{start, end, !p.invert})
		prev = end
	})
	if prev != len(s) {
		spans = append(spans, splitSpan{prev, len(s), p.invert})
	}
	var pieces []splitSpan
	prevMatch := false
	switch p.behavior {
	case splitRemoved:
		for _, sp := range spans {
			if !sp.match {
				pieces = append(pieces, sp)
			}
		}
	case splitIsolated:
		pieces = spans
	case splitContiguous:
		for _, sp := range spans {
			if sp.match == prevMatch && len(pieces) > 0 {
				pieces[len(pieces)-1].end = sp.end
			} else {
				pieces = append(pieces, sp)
			}
			prevMatch = sp.match
		}
	case splitMergedWithPrevious:
		for _, sp := range spans {
			if sp.match && !prevMatch && len(pieces) > 0 {
				pieces[len(pieces)-1].end = sp.end
			} else {
				pieces = append(pieces, sp)
			}
			prevMatch = sp.match
		}
	case splitMergedWithNext:
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && len(pieces) > 0 {
				pieces[len(pieces)-1].start = sp.start
			} else {
				pieces = append(pieces, sp)
			}
			prevMatch = sp.match
		}
		slices.Reverse(pieces)
	}
	for _, sp := range pieces {
		if sp.end > sp.start {
			out = append(out, s[sp.start:sp.end])
		}
	}
	return out
}
