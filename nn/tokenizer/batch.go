package tokenizer

import (
	"errors"
	"fmt"
)

// DefaultMaxLength is the truncation length of batch encoding when BatchOptions.MaxLength is 0.
const DefaultMaxLength = 128

// BatchOptions control truncation and padding of EncodeBatch and EncodePairBatch. The zero value truncates
// to DefaultMaxLength (special tokens included), pads on the right to the longest row, and adds the
// model's special tokens.
type BatchOptions struct {
	// MaxLength is the longest row, special tokens included: 0 means DefaultMaxLength, negative disables
	// truncation. Pairs are truncated longest-first, as Hugging Face's default strategy does.
	MaxLength int
	// PadToMaxLength pads every row to MaxLength (Hugging Face's padding="max_length"); otherwise rows
	// are padded to the longest row of the batch (padding="longest").
	PadToMaxLength bool
	// PadLeft puts the padding before the tokens (Hugging Face's padding_side="left", the default of its
	// Llama tokenizers, used for batched generation).
	PadLeft bool
	// NoSpecialTokens leaves out the model's special tokens (add_special_tokens=False).
	NoSpecialTokens bool
}

// Batch is a padded batch in the int64 layout that embedding layers and tensors take. Padding is on the
// right unless BatchOptions.PadLeft.
type Batch struct {
	// IDs are the token ids, [B][T], padded with the tokenizer's PAD id.
	IDs [][]int64
	// AttentionMask is 1 for tokens and 0 for padding, [B][T].
	AttentionMask [][]int64
	// TypeIDs are the segment ids, [B][T] (0 for padding).
	TypeIDs [][]int64
	// Lengths are the unpadded row lengths, [B].
	Lengths []int
}

// Rows is B and Cols is T.
func (b *Batch) Rows() int { return len(b.IDs) }

// Cols is the padded length T (0 for an empty batch).
func (b *Batch) Cols() int {
	if len(b.IDs) == 0 {
		return 0
	}
	return len(b.IDs[0])
}

// Flat returns ids and attention mask flattened row-major, [B*T] each, ready for a [B, T] tensor.
func (b *Batch) Flat() (ids, mask []int64) {
	ids = make([]int64, 0, b.Rows()*b.Cols())
	mask = make([]int64, 0, b.Rows()*b.Cols())
	for i := range b.IDs {
		ids = append(ids, b.IDs[i]...)
		mask = append(mask, b.AttentionMask[i]...)
	}
	return ids, mask
}

// truncatePair is Hugging Face's LongestFirst truncation of a pair to limit tokens in total: the shorter
// sequence is kept whole when the longer one can absorb the cut, otherwise both get about limit/2.
func truncatePair(a, b []int, limit int) ([]int, []int) {
	if len(a)+len(b) <= limit {
		return a, b
	}
	n1, n2 := len(a), len(b)
	swap := n1 > n2
	if swap {
		n1, n2 = n2, n1
	}
	if n1 > limit {
		n2 = n1
	} else {
		n2 = max(n1, limit-n1)
	}
	if n1+n2 > limit {
		n1 = limit / 2
		n2 = n1 + limit%2
	}
	if swap {
		n1, n2 = n2, n1
	}
	return a[:min(n1, len(a))], b[:min(n2, len(b))]
}

// maxLength resolves BatchOptions.MaxLength; -1 means no truncation.
func (o BatchOptions) maxLength() int {
	switch {
	case o.MaxLength == 0:
		return DefaultMaxLength
	case o.MaxLength < 0:
		return -1
	}
	return o.MaxLength
}

// encodeRow tokenizes, truncates and post-processes one row.
func (t *Pipeline) encodeRow(a, b string, pair bool, o BatchOptions) (Encoding, error) {
	ia := t.tokenizeText(a, false)
	var ib []int
	if pair {
		ib = t.tokenizeText(b, false)
	}
	addSpecial := !o.NoSpecialTokens
	if limit := o.maxLength(); limit >= 0 {
		if addSpecial {
			n := t.post.added(pair)
			if n > limit {
				return Encoding{}, fmt.Errorf("max length %d leaves no room for the %d special tokens", limit, n)
			}
			limit -= n
		}
		if pair {
			ia, ib = truncatePair(ia, ib, limit)
		} else if len(ia) > limit {
			ia = ia[:limit]
		}
	}
	return t.post.apply(ia, ib, pair, addSpecial), nil
}

// EncodeBatch encodes texts into a padded [B][T] batch.
func (t *Pipeline) EncodeBatch(texts []string, opts BatchOptions) (*Batch, error) {
	encs := make([]Encoding, len(texts))
	for i, s := range texts {
		e, err := t.encodeRow(s, "", false, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: batch row %d: %w", t.name, i, err)
		}
		encs[i] = e
	}
	return t.padBatch(encs, opts)
}

// EncodePairBatch encodes the pairs (a[i], b[i]) into a padded [B][T] batch.
func (t *Pipeline) EncodePairBatch(a, b []string, opts BatchOptions) (*Batch, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("%s: pair batch with %d first and %d second sequences", t.name, len(a), len(b))
	}
	encs := make([]Encoding, len(a))
	for i := range a {
		e, err := t.encodeRow(a[i], b[i], true, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: batch row %d: %w", t.name, i, err)
		}
		encs[i] = e
	}
	return t.padBatch(encs, opts)
}

// padBatch pads the encodings to a common length.
func (t *Pipeline) padBatch(encs []Encoding, o BatchOptions) (*Batch, error) {
	width := 0
	for _, e := range encs {
		width = max(width, len(e.IDs))
	}
	if o.PadToMaxLength {
		limit := o.maxLength()
		if limit < 0 {
			return nil, errors.New(t.name + ": PadToMaxLength needs a MaxLength (truncation is disabled)")
		}
		width = limit
	}
	needPad := false
	for _, e := range encs {
		needPad = needPad || len(e.IDs) < width
	}
	if needPad && t.pad == NoToken {
		return nil, errors.New(t.name + ": batch needs padding but the tokenizer has no PAD id (use SetPAD)")
	}
	b := &Batch{IDs: make([][]int64, len(encs)), AttentionMask: make([][]int64, len(encs)),
		TypeIDs: make([][]int64, len(encs)), Lengths: make([]int, len(encs))}
	for i, e := range encs {
		ids, mask, types := make([]int64, width), make([]int64, width), make([]int64, width)
		off := 0
		if o.PadLeft {
			off = width - len(e.IDs)
		}
		for j := range width {
			ids[j] = int64(t.pad)
		}
		for j, id := range e.IDs {
			ids[off+j], mask[off+j], types[off+j] = int64(id), 1, int64(e.TypeIDs[j])
		}
		b.IDs[i], b.AttentionMask[i], b.TypeIDs[i], b.Lengths[i] = ids, mask, types, len(e.IDs)
	}
	return b, nil
}
