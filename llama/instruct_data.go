package llama

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/loraplus-go/loraplus/llama/data"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// InstructDataOptions choose how LoadInstructData reads and encodes a JSONL file.
type InstructDataOptions struct {
	// MaxLen is the token budget of an example (data.DefaultMaxSeqLength when <= 0); longer ones are cut.
	MaxLen int
	// SkipBad leaves out malformed records (listed in the report) instead of stopping at the first one.
	SkipBad bool
	// Limit, when > 0, keeps only the first Limit usable examples.
	Limit int
}

// InstructReport says what LoadInstructData read.
type InstructReport struct {
	Examples  int      // examples kept
	Truncated int      // examples cut to MaxLen
	NoTarget  []string // "file:line" of examples left with no trained token after truncation (left out)
	Skipped   []error  // malformed records left out under SkipBad
}

// String summarises the report for logs.
func (r *InstructReport) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d examples, %d truncated to the maximum length\n", r.Examples, r.Truncated)
	if len(r.NoTarget) > 0 {
		fmt.Fprintf(&b, "left out %d examples with no target token within the maximum length: %v\n", len(r.NoTarget), r.NoTarget)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "skipped %d malformed rows:\n", len(r.Skipped))
		for _, e := range r.Skipped {
			fmt.Fprintf(&b, "  %v\n", e)
		}
	}
	return b.String()
}

// InstructTokenize is the tokenization of open-instruct's finetune.py: the tokenizer's own special tokens
// (Llama: a leading <s>), special-token text such as "</s>" read as that token.
func InstructTokenize(tok *tokenizer.Pipeline) data.TokenizeFunc {
	return func(s string) ([]int, error) { return tok.Encode(s, true), nil }
}

// LoadInstructData reads flan-v2-style JSONL ({"inputs", "targets"}, {"prompt", "completion"} or
// {"messages": [...]}), lays each record out as open-instruct does (data.Format, with the tokenizer's
// end-of-sequence text) and encodes it with labels data.IgnoreIndex on the prompt. Examples whose targets are
// cut away entirely are left out and reported (they would give no loss). Errors name the file and line.
func LoadInstructData(path string, tok *tokenizer.Pipeline, o InstructDataOptions) ([]data.Encoded, *InstructReport, error) {
	eos, ok := tok.Token(tok.EOS())
	if !ok {
		return nil, nil, fmt.Errorf("%s: the tokenizer has no end-of-sequence token", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rep := &InstructReport{}
	var out []data.Encoded
	tokenize := InstructTokenize(tok)
	br := bufio.NewReader(f)
	for lineNo := 1; o.Limit <= 0 || len(out) < o.Limit; lineNo++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, lineNo, rerr)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			enc, ok, err := encodeInstructLine(line, path, lineNo, eos, tokenize, o.MaxLen)
			switch {
			case err != nil && !o.SkipBad:
				return nil, nil, err
			case err != nil:
				rep.Skipped = append(rep.Skipped, err)
			case !ok:
			case instructTrained(enc) == 0:
				rep.NoTarget = append(rep.NoTarget, fmt.Sprintf("%s:%d", path, lineNo))
			default:
				out = append(out, enc)
			}
		}
		if rerr != nil {
			break
		}
	}
	rep.Examples = len(out)
	maxLen := o.MaxLen
	if maxLen <= 0 {
		maxLen = data.DefaultMaxSeqLength
	}
	for _, e := range out {
		if len(e.InputIDs) == maxLen {
			rep.Truncated++ // at the budget: cut, or exactly as long
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%s: no usable examples%s", path, rep.leftOut())
	}
	return out, rep, nil
}

// leftOut says why a file gave no examples, for the error: what the reader left out, or that the file had no
// record at all.
func (r *InstructReport) leftOut() string {
	var parts []string
	if n := len(r.NoTarget); n > 0 {
		parts = append(parts, fmt.Sprintf("%d left with no target token within the maximum length", n))
	}
	if n := len(r.Skipped); n > 0 {
		parts = append(parts, fmt.Sprintf("%d malformed records skipped", n))
	}
	if len(parts) == 0 {
		return " (the file holds no JSON record)"
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// encodeInstructLine parses, formats and encodes one JSONL line; errors carry the file's line number. ok is
// false for a line with no record.
func encodeInstructLine(line []byte, path string, lineNo int, eos string, tokenize data.TokenizeFunc, maxLen int) (data.Encoded, bool, error) {
	ex, ok, err := data.ParseInstructLine(line, path, lineNo)
	if err != nil || !ok {
		return data.Encoded{}, false, err
	}
	fm, err := data.Format(ex, eos)
	if err != nil {
		return data.Encoded{}, false, err
	}
	enc, err := fm.Encode(tokenize, maxLen)
	return enc, err == nil, err
}

// instructTrained counts the labels that the next-token loss scores (every position but the first).
func instructTrained(e data.Encoded) int {
	n := 0
	for i := 1; i < len(e.Labels); i++ {
		if e.Labels[i] != data.IgnoreIndex {
			n++
		}
	}
	return n
}
