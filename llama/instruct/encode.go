package instruct

import "fmt"

// IgnoreIndex is the label of positions that get no loss, as in PyTorch's
// cross-entropy ignore_index.
const IgnoreIndex = -100

// DefaultMaxSeqLength is the token budget [Formatted.Encode] uses when
// given a maximum length <= 0.
const DefaultMaxSeqLength = 512

// TokenizeFunc turns text into token ids. Whether it adds a beginning-of-
// sequence token is up to the caller; it is applied the same way to the
// full text and to the prefixes used for masking.
type TokenizeFunc func(text string) ([]int, error)

// Encoded is a tokenized training example.
type Encoded struct {
	// InputIDs are the token ids of Text, truncated, shape [n] with n <= max length.
	InputIDs []int
	// Labels are InputIDs with masked positions set to IgnoreIndex, shape [n].
	Labels []int
}

// Trained returns the number of positions whose label is not IgnoreIndex.
func (e Encoded) Trained() int {
	n := 0
	for _, l := range e.Labels {
		if l != IgnoreIndex {
			n++
		}
	}
	return n
}

// Encode tokenizes f.Text, keeps the first maxLen tokens (DefaultMaxSeqLength
// when maxLen <= 0) and sets the labels of the masked spans to IgnoreIndex.
// As in the reference, the token range of a span is found by tokenizing its
// end (and, unless it starts at 0, its start) prefix of f.Context, each
// truncated to maxLen (an empty end prefix is tokenized too, so a
// tokenizer that adds a beginning-of-sequence token masks it), and masking
// stops after a span that reaches maxLen.
func (f Formatted) Encode(tokenize TokenizeFunc, maxLen int) (Encoded, error) {
	if tokenize == nil {
		return Encoded{}, fmt.Errorf("%s:%d: encode: nil tokenize function", f.File, f.Line)
	}
	if maxLen <= 0 {
		maxLen = DefaultMaxSeqLength
	}
	ids, err := tokenize(f.Text)
	if err != nil {
		return Encoded{}, fmt.Errorf("%s:%d: encode: tokenize: %w", f.File, f.Line, err)
	}
	ids = append([]int(nil), ids[:min(len(ids), maxLen)]...)
	labels := append([]int(nil), ids...)
	prefixLen := func(n int) (int, error) {
		if n < 0 || n > len(f.Context) {
			return 0, fmt.Errorf("%s:%d: encode: mask offset %d outside context of %d bytes", f.File, f.Line, n, len(f.Context))
		}
		toks, err := tokenize(f.Context[:n])
		if err != nil {
			return 0, fmt.Errorf("%s:%d: encode: tokenize prefix: %w", f.File, f.Line, err)
		}
		return min(len(toks), maxLen), nil
	}
	for _, span := range f.Masked {
		start := 0
		if span.Start != 0 {
			if start, err = prefixLen(span.Start); err != nil {
				return Encoded{}, err
			}
		}
		end, err := prefixLen(span.End)
		if err != nil {
			return Encoded{}, err
		}
		for i := start; i < min(end, len(labels)); i++ {
			labels[i] = IgnoreIndex
		}
		if end >= maxLen {
			break
		}
	}
	return Encoded{InputIDs: ids, Labels: labels}, nil
}
