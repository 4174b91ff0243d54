package instruct

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// DataOptions choose how LoadData reads and encodes a JSONL file.
type DataOptions struct {
	// MaxLen is the token budget of an example (DefaultMaxSeqLength when <= 0); longer ones are cut.
	MaxLen int
	// SkipBad leaves out malformed records (listed in the report) instead of stopping at the first one.
	SkipBad bool
	// Limit, when > 0, keeps only the first Limit usable examples.
	Limit int
}

// Report says what LoadData read.
type Report struct {
	Examples  int      // examples kept
	Truncated int      // examples cut to MaxLen
	NoTarget  []string // "file:line" of examples left with no trained token after truncation (left out)
	Skipped   []error  // malformed records left out under SkipBad
}

// String summarises the report for logs.
func (r *Report) String() string {
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

// Tokenize is the tokenization of open-instruct's finetune.py: the tokenizer's own special tokens
// (Llama: a leading <s>), special-token text such as "</s>" read as that token.
func Tokenize(tok *tokenizer.Pipeline) TokenizeFunc {
	return func(s string) ([]int, error) { return tok.Encode(s, true), nil }
}

// LoadData reads flan-v2-style JSONL ({"inputs", "targets"}, {"prompt", "completion"} or
// {"messages": [...]}), lays each record out as open-instruct does (Format, with the tokenizer's
// end-of-sequence text) and encodes it with labels IgnoreIndex on the prompt. Examples whose targets are
// cut away entirely are left out and reported (they would give no loss). Errors name the file and line.
func LoadData(path string, tok *tokenizer.Pipeline, o DataOptions) ([]Encoded, *Report, error) {
	eos, ok := tok.Token(tok.EOS())
	if !ok {
		return nil, nil, fmt.Errorf("%s: the tokenizer has no end-of-sequence token", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rep := &Report{}
	var out []Encoded
	tokenize := Tokenize(tok)
	br := bufio.NewReader(f)
	for lineNo := 1; o.Limit <= 0 || len(out) < o.Limit; lineNo++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, lineNo, rerr)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			enc, ok, err := encodeLine(line, path, lineNo, eos, tokenize, o.MaxLen)
			switch {
			case err != nil && !o.SkipBad:
				return nil, nil, err
			case err != nil:
				rep.Skipped = append(rep.Skipped, err)
			case !ok:
			case trained(enc) == 0:
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
		maxLen = DefaultMaxSeqLength
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
func (r *Report) leftOut() string {
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

// encodeLine parses, formats and encodes one JSONL line; errors carry the file's line number. ok is
// false for a line with no record.
func encodeLine(line []byte, path string, lineNo int, eos string, tokenize TokenizeFunc, maxLen int) (Encoded, bool, error) {
	ex, ok, err := ParseLine(line, path, lineNo)
	if err != nil || !ok {
		return Encoded{}, false, err
	}
	fm, err := Format(ex, eos)
	if err != nil {
		return Encoded{}, false, err
	}
	enc, err := fm.Encode(tokenize, maxLen)
	return enc, err == nil, err
}

// trained counts the labels that the next-token loss scores (every position but the first).
func trained(e Encoded) int {
	n := 0
	for i := 1; i < len(e.Labels); i++ {
		if e.Labels[i] != IgnoreIndex {
			n++
		}
	}
	return n
}
