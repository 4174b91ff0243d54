package glue

import (
	"fmt"
)

// Tokenizer turns an example's texts into token ids for a model. It is the small surface the finetuning runner
// needs from a real tokenizer (GPT-2's or RoBERTa's byte-level BPE).
type Tokenizer struct {
	// Encode returns the ids of one example with the model's special tokens; textB is "" for a
	// single-sentence task.
	Encode func(textA, textB string) ([]int, error)
	// PadID fills the positions after the last token; the attention mask is 0 there.
	PadID int
	// KeepLast is the number of trailing ids kept when a sequence is truncated (1 for RoBERTa's closing </s>,
	// 0 for GPT-2, which adds no special tokens).
	KeepLast int
}

// Encoded is one tokenized example: ids [≤ MaxLen] and its class id.
type Encoded struct {
	IDs   []int
	Label int
	Line  int // the example's line in its file, for error messages
}

// EncodeExamples tokenizes examples and truncates each to maxLen ids (keeping tok.KeepLast trailing ids).
// It also returns how many examples were truncated. An empty encoding or an id below 0 is an error naming
// the example's line.
func EncodeExamples(examples []Example, tok Tokenizer, maxLen int) ([]Encoded, int, error) {
	if tok.Encode == nil {
		return nil, 0, fmt.Errorf("tokenizer has no Encode function")
	}
	if maxLen <= 0 {
		return nil, 0, fmt.Errorf("max length must be > 0, got %d", maxLen)
	}
	if tok.KeepLast < 0 || tok.KeepLast >= maxLen {
		return nil, 0, fmt.Errorf("KeepLast %d must be in [0, max length %d)", tok.KeepLast, maxLen)
	}
	out := make([]Encoded, len(examples))
	truncated := 0
	for i, ex := range examples {
		ids, err := tok.Encode(ex.TextA, ex.TextB)
		if err != nil {
			return nil, 0, fmt.Errorf("example at line %d: %w", ex.Line, err)
		}
		if len(ids) == 0 {
			return nil, 0, fmt.Errorf("example at line %d encodes to no tokens", ex.Line)
		}
		for _, id := range ids {
			if id < 0 {
				return nil, 0, fmt.Errorf("example at line %d has token id %d", ex.Line, id)
			}
		}
		if len(ids) > maxLen {
			truncated++
			cut := make([]int, 0, maxLen)
			cut = append(cut, ids[:maxLen-tok.KeepLast]...)
			ids = append(cut, ids[len(ids)-tok.KeepLast:]...)
		}
		out[i] = Encoded{IDs: ids, Label: ex.Label, Line: ex.Line}
	}
	return out, truncated, nil
}

// Batch is a padded batch in row-major host memory, ready to become tensors.
type Batch struct {
	// IDs and Mask are [Rows, Cols] int64, row-major; Mask is 1 on tokens and 0 on padding.
	IDs, Mask []int64
	// Labels are [Rows] class ids.
	Labels     []int64
	Rows, Cols int
}

// MakeBatch pads the examples at idx to cols columns (or to the longest of them when cols is 0) with padID.
// An example longer than cols is an error.
func MakeBatch(data []Encoded, idx []int, cols, padID int) (*Batch, error) {
	if len(idx) == 0 {
		return nil, fmt.Errorf("empty batch")
	}
	if cols == 0 {
		for _, i := range idx {
			cols = max(cols, len(data[i].IDs))
		}
	}
	b := &Batch{Rows: len(idx), Cols: cols, IDs: make([]int64, len(idx)*cols), Mask: make([]int64, len(idx)*cols),
		Labels: make([]int64, len(idx))}
	for r, i := range idx {
		if i < 0 || i >= len(data) {
			return nil, fmt.Errorf("batch index %d outside [0, %d)", i, len(data))
		}
		ex := data[i]
		if len(ex.IDs) > cols {
			return nil, fmt.Errorf("example at line %d has %d tokens, batch has %d columns", ex.Line, len(ex.IDs), cols)
		}
		row := b.IDs[r*cols : (r+1)*cols]
		mask := b.Mask[r*cols : (r+1)*cols]
		for j := range row {
			if j < len(ex.IDs) {
				row[j], mask[j] = int64(ex.IDs[j]), 1
			} else {
				row[j] = int64(padID)
			}
		}
		b.Labels[r] = int64(ex.Label)
	}
	return b, nil
}
