package mmlu

import (
	"fmt"
	"io"
	"os"

	"github.com/loraplus-go/loraplus/llama/internal/dataerr"
)

// Letters are the MMLU answer letters, in choice order.
var Letters = [4]string{"A", "B", "C", "D"}

// AnswerChoices are the continuations whose next-token logits are compared
// when scoring a prompt that ends in "Answer:": a space and the letter.
var AnswerChoices = [4]string{" A", " B", " C", " D"}

// mmluColumns names the six columns of an MMLU CSV row, for error messages.
var mmluColumns = [6]string{"question", "A", "B", "C", "D", "answer"}

// Question is one MMLU multiple-choice question.
type Question struct {
	// Subject is the subject name taken from the file name, e.g. "abstract_algebra".
	Subject string
	// Question is the question text as the original evaluator prints it (see [ReadQuestions]).
	Question string
	// Choices are the texts of choices A, B, C and D as the original evaluator prints them.
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
// which have the form "name:line: ...". Parsing follows Python's csv module:
// quoted fields may hold commas, newlines, doubled quotes and \r\n, all kept
// verbatim, and a quote inside an unquoted field is an ordinary character.
// Input that CSV parsers read differently (a stray character after a
// closing quote, a lone carriage return, an unclosed quote) or that is not
// UTF-8 is rejected. Rows must have exactly six fields.
//
// Fields are then converted as the original evaluator's
// pandas.read_csv(path, header=None) and "{}".format read them
// ([pandasFields]): a cell that is a default NA string such as "None" or ""
// becomes "nan", and a column whose every cell is an integer, a float or a
// boolean is printed as pandas' int64, float64 or bool values ("03" as "3",
// "1.50" as "1.5", "TRUE" as "True"). On the shared data this changes twelve
// choice cells ("None", 10 test and 2 val); every column there is a string
// column. The converted answer must be A, B, C or D. Files of more than
// 131072 rows, which pandas types chunk by chunk, are rejected.
func ReadQuestions(r io.Reader, name, subject string) ([]Question, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mmlu: %s: %w", name, err)
	}
	recs, err := readCSV(raw, name, 0)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(recs))
	for i, rec := range recs {
		if len(rec.Fields) != len(mmluColumns) {
			return nil, dataerr.New(name, rec.Line, "", "got %d fields, want %d (question, A, B, C, D, answer)", len(rec.Fields), len(mmluColumns))
		}
		if i == pandasChunkRows {
			return nil, dataerr.New(name, rec.Line, "", "more than %d rows: pandas types the columns of longer files per chunk, which is not supported", pandasChunkRows)
		}
		rows[i] = rec.Fields
	}
	out := make([]Question, 0, len(recs))
	for i, f := range pandasFields(rows) {
		q := Question{
			Subject:  subject,
			Question: f[0],
			Choices:  [4]string{f[1], f[2], f[3], f[4]},
			Answer:   f[5],
			File:     name,
			Line:     recs[i].Line,
		}
		if q.AnswerIndex() < 0 {
			return nil, dataerr.New(name, recs[i].Line, mmluColumns[5], "want one of A, B, C, D, got %q", rows[i][5])
		}
		out = append(out, q)
	}
	return out, nil
}
