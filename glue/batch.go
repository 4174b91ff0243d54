package glue

import (
	"fmt"

	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// Tokenizer turns an example's texts into token ids for a model. It is the small surface the finetuning runner
// needs from a real tokenizer; PipelineTokenizer makes one from the project's tokenizer.
type Tokenizer struct {
	// Encode returns the ids of one example with the model's special tokens, at most maxLen of them, and
	// whether the texts were cut to fit; textB is "" for a single-sentence task. A pair is cut as Hugging
	// Face's truncation=True (longest first) does: tokens come off the longer text, so both texts and all
	// special tokens stay.
	Encode func(textA, textB string, maxLen int) (ids []int, truncated bool, err error)
	// PadID fills the positions after the last token; the attention mask is 0 there.
	PadID int
}

// PipelineTokenizer adapts a tokenizer: Encode gives the ids of Hugging Face's
// tokenizer(textA, textB, truncation=True, max_length=maxLen) (textB left out when ""), the special tokens of
// the tokenizer's post-processor included (none for GPT-2, <s> A </s></s> B </s> for RoBERTa, <s> A <s> B for
// Llama-2). A pair is cut longest first (tokenizer.BatchOptions): the shorter text stays whole when the longer
// can absorb the cut, otherwise each keeps about half. padID is the id batches are padded with.
func PipelineTokenizer(p *tokenizer.Pipeline, padID int) Tokenizer {
	enc := func(a, b string, maxLen int) ([]int, bool, error) {
		batch := func(limit int) (*tokenizer.Batch, error) {
			o := tokenizer.BatchOptions{MaxLength: limit}
			if b == "" {
				return p.EncodeBatch([]string{a}, o)
			}
			return p.EncodePairBatch([]string{a}, []string{b}, o)
		}
		enc, err := batch(-1)
		if err != nil {
			return nil, false, err
		}
		cut := enc.Lengths[0] > maxLen
		if cut {
			if enc, err = batch(maxLen); err != nil {
				return nil, false, err
			}
		}
		ids := make([]int, enc.Lengths[0])
		for i := range ids {
			ids[i] = int(enc.IDs[0][i])
		}
		return ids, cut, nil
	}
	return Tokenizer{Encode: enc, PadID: padID}
}

// Encoded is one tokenized example: ids [≤ MaxLen] and its class id, or for a regression task its score.
type Encoded struct {
	IDs   []int
	Label int
	Value float64 // the gold score of a regression task (Example.Value)
	Line  int     // the example's line in its file, for error messages
}

// EncodeExamples tokenizes examples with at most maxLen ids each (see Tokenizer.Encode) and returns how many had
// to be truncated. An empty encoding, an id below 0 or an encoding longer than maxLen is an error naming the
// example's line.
func EncodeExamples(examples []Example, tok Tokenizer, maxLen int) ([]Encoded, int, error) {
	if tok.Encode == nil {
		return nil, 0, fmt.Errorf("glue: tokenizer has no Encode function")
	}
	if maxLen <= 0 {
		return nil, 0, fmt.Errorf("glue: max length must be > 0, got %d", maxLen)
	}
	out := make([]Encoded, len(examples))
	truncated := 0
	for i, ex := range examples {
		ids, cut, err := tok.Encode(ex.TextA, ex.TextB, maxLen)
		if err != nil {
			return nil, 0, fmt.Errorf("glue: example at line %d: %w", ex.Line, err)
		}
		if len(ids) == 0 {
			return nil, 0, fmt.Errorf("glue: example at line %d encodes to no tokens", ex.Line)
		}
		if len(ids) > maxLen {
			return nil, 0, fmt.Errorf("glue: example at line %d encodes to %d tokens, above the max length %d",
				ex.Line, len(ids), maxLen)
		}
		for _, id := range ids {
			if id < 0 {
				return nil, 0, fmt.Errorf("glue: example at line %d has token id %d", ex.Line, id)
			}
		}
		if cut {
			truncated++
		}
		out[i] = Encoded{IDs: ids, Label: ex.Label, Value: ex.Value, Line: ex.Line}
	}
	return out, truncated, nil
}

// Batch is a padded batch in row-major host memory, ready to become tensors.
type Batch struct {
	// IDs and Mask are [Rows, Cols] int64, row-major; Mask is 1 on tokens and 0 on padding.
	IDs, Mask []int64
	// Labels are [Rows] class ids.
	Labels []int64
	// Values are [Rows] gold scores of a regression task (0 for a classification task).
	Values     []float32
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
		Labels: make([]int64, len(idx)), Values: make([]float32, len(idx))}
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
		b.Labels[r], b.Values[r] = int64(ex.Label), float32(ex.Value)
	}
	return b, nil
}
