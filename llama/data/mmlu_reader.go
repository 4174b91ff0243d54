package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Letters are the MMLU answer letters, in choice order.
var Letters = [4]string{"A", "B", "C", "D"}

// AnswerChoices are the continuations whose next-token logits are compared
// when scoring a prompt that ends in "Answer:": a space and the letter.
var AnswerChoices = [4]string{" A", " B", " C", " D"}

// mmluColumns names the six columns of an MMLU CSV row, for error messages.
var mmluColumns = [6]string{"question", "A", "B", "C", "D", "answer"}

// crSentinel stands in for a carriage return inside a quoted field while
// encoding/csv parses the file: csv drops the \r of every \r\n pair, even
// inside quotes, while the reference readers keep it. 0xFF never occurs in
// valid UTF-8, and input is checked to be valid UTF-8 first.
const crSentinel = 0xFF

// Question is one MMLU multiple-choice question.
type Question struct {
	// Subject is the subject name taken from the file name, e.g. "abstract_algebra".
	Subject string
	// Question is the question text, verbatim.
	Question string
	// Choices are the texts of choices A, B, C and D, verbatim.
	Choices [4]string
	// Answer is the gold letter: "A", "B", "C" or "D".
	Answer string
	// File and Line locate the record (Line is 1-based, where the record starts).
	File string
	Line int
}

// AnswerIndex returns the index 0..3 of the gold letter, or -1 if the
// answer is not one of A, B, C, D.
func (q Question) AnswerIndex() int {
	return letterIndex(q.Answer)
}

func letterIndex(s string) int {
	for i, l := range Letters {
		if s == l {
			return i
		}
	}
	return -1
}

// ReadQuestionsFile reads one MMLU CSV file (no header; columns question,
// A, B, C, D, answer) and tags every question with subject.
func ReadQuestionsFile(path, subject string) ([]Question, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadQuestions(f, path, subject)
}

// ReadQuestions reads MMLU CSV rows from r. name is used in error messages,
// which have the form "name:line: ...". Fields are kept verbatim, carriage
// returns inside quoted fields included; a leading UTF-8 byte order mark is
// skipped. Rows must have exactly six fields and an answer of A, B, C or D.
func ReadQuestions(r io.Reader, name, subject string) ([]Question, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		return nil, lineErrorf(name, invalidUTF8Line(raw), "", "invalid UTF-8")
	}
	protectQuotedCR(raw)

	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = len(mmluColumns)
	var out []Question
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					return nil, lineErrorf(name, pe.StartLine, "", "got %d fields, want %d (question, A, B, C, D, answer)", len(rec), len(mmluColumns))
				}
				return nil, lineErrorf(name, pe.Line, "", "column %d: %v", pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			if strings.IndexByte(rec[i], crSentinel) >= 0 {
				rec[i] = strings.ReplaceAll(rec[i], "\xff", "\r")
			}
		}
		q := Question{
			Subject:  subject,
			Question: rec[0],
			Choices:  [4]string{rec[1], rec[2], rec[3], rec[4]},
			Answer:   rec[5],
			File:     name,
			Line:     line,
		}
		if q.AnswerIndex() < 0 {
			return nil, lineErrorf(name, line, mmluColumns[5], "want one of A, B, C, D, got %q", rec[5])
		}
		out = append(out, q)
	}
}

// protectQuotedCR replaces, in place, every \r inside a double-quoted field
// with crSentinel. Doubled quotes inside a quoted field toggle the state
// twice, so tracking quote parity is enough for well-formed input; malformed
// quoting is rejected by encoding/csv afterwards.
func protectQuotedCR(b []byte) {
	inQuote := false
	for i, c := range b {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == '\r' && inQuote:
			b[i] = crSentinel
		}
	}
}

// invalidUTF8Line returns the 1-based line of the first invalid UTF-8 byte in b.
func invalidUTF8Line(b []byte) int {
	line := 1
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		b = b[size:]
	}
	return line
}
