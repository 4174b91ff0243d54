package mmlu

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadQuestions feeds arbitrary bytes to the MMLU CSV reader. It must
// never panic; what it accepts must be well-formed questions that format
// into prompts, and errors must name the file.
func FuzzReadQuestions(f *testing.F) {
	f.Add([]byte("q,a,b,c,d,A\n"))
	f.Add([]byte("\"multi\r\nline, \"\"quoted\"\"\",a,b,c,d,B\r\nq2,a,b,c,d,C"))
	f.Fuzz(func(t *testing.T, in []byte) {
		qs, err := ReadQuestions(bytes.NewReader(in), "fuzz.csv", "fuzz_subject")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		last := 0
		for _, q := range qs {
			if q.AnswerIndex() < 0 {
				t.Fatalf("accepted answer %q", q.Answer)
			}
			if q.Line <= last {
				t.Fatalf("line %d after line %d", q.Line, last)
			}
			last = q.Line
			for _, s := range append([]string{q.Question}, q.Choices[:]...) {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 field %q", s)
				}
			}
			p, err := BuildPrompt(q.Subject, qs[:1], q, 1)
			if err != nil || !strings.HasSuffix(p, "\nAnswer:") {
				t.Fatalf("prompt %q, err %v", p, err)
			}
		}
	})
}
