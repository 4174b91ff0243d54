package glue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

// physicalLines splits data into its lines without endings, as the TSV reader numbers them.
func physicalLines(data []byte) []string {
	s := string(data)
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if i == 0 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		lines[i] = l
	}
	return lines
}

// trailingBlankStart returns the 1-based line where the run of empty lines ending the file
// starts (len(lines)+1 when the last line is not empty).
func trailingBlankStart(lines []string) int {
	n := len(lines)
	for n > 1 && lines[n-1] == "" {
		n--
	}
	return n + 1
}

// FuzzReadTSV checks that the TSV reader never panics, accounts for every physical line
// exactly once (a record, a row error or a trailing empty line) and returns fields that
// rebuild their line.
func FuzzReadTSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := physicalLines(data)
		tr, err := NewTSVReader(bytes.NewReader(data), "fuzz.tsv")
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != 1 || !strings.HasPrefix(err.Error(), "fuzz.tsv:1: ") {
				t.Fatalf("header error %v: want a *LineError for line 1", err)
			}
			return
		}
		width := len(tr.Header())
		seen := map[int]bool{}
		last := 1
		for {
			rec, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			line := rec.Line
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) {
					t.Fatalf("row error %v is not a *LineError", err)
				}
				if !strings.HasPrefix(err.Error(), fmt.Sprintf("fuzz.tsv:%d: ", le.Line)) {
					t.Fatalf("row error %q does not start with file:line", err)
				}
				line = le.Line
			} else {
				if len(rec.Fields) != width {
					t.Fatalf("line %d: %d fields, header has %d", line, len(rec.Fields), width)
				}
				if got := strings.Join(rec.Fields, "\t"); line > len(lines) || got != lines[line-1] {
					t.Fatalf("line %d: fields rebuild %q", line, got)
				}
			}
			if line <= last || line > len(lines) {
				t.Fatalf("line %d after line %d (file has %d lines)", line, last, len(lines))
			}
			last = line
			seen[line] = true
		}
		end := trailingBlankStart(lines)
		for n := 2; n < end; n++ {
			if !seen[n] {
				t.Fatalf("line %d was neither returned nor reported", n)
			}
		}
		if _, err := tr.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("Next after the end: %v, want io.EOF", err)
		}
	})
}

// FuzzReadExamples checks that reading examples never panics under either policy, that the
// skip policy accounts for every data line, that the stop policy fails exactly at the skip
// policy's first bad row, and that every example is well formed.
func FuzzReadExamples(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		all := Tasks()
		task := all[int(which)%len(all)]
		skip, skipErr := task.ReadExamples(bytes.NewReader(data), "fuzz.tsv", ReadOptions{Policy: SkipBadRows})
		stop, stopErr := task.ReadExamples(bytes.NewReader(data), "fuzz.tsv", ReadOptions{})
		if skipErr != nil {
			// Only the header can fail both policies when reading from memory.
			if stopErr == nil || stopErr.Error() != skipErr.Error() {
				t.Fatalf("skip failed with %v, stop with %v", skipErr, stopErr)
			}
			var le *LineError
			if !errors.As(skipErr, &le) || le.Line != 1 {
				t.Fatalf("fatal error %v is not about the header", skipErr)
			}
			return
		}
		lines := physicalLines(data)
		first, end := 2, trailingBlankStart(lines) // the first data line, the first trailing blank line
		if task.Headerless != nil {
			first = 1 // line 1 is data, and blank when every line is
			if end == 2 && lines[0] == "" {
				end = 1
			}
		}
		if got, want := len(skip.Examples)+skip.Skipped, end-first; got != want {
			t.Fatalf("%d examples + %d skipped rows, want %d data lines", len(skip.Examples), skip.Skipped, want)
		}
		if skip.Skipped != len(skip.Errors) {
			t.Fatalf("%d skipped rows but %d errors", skip.Skipped, len(skip.Errors))
		}
		for _, ex := range skip.Examples {
			if ex.Label < 0 || ex.Label >= task.NumLabels() {
				t.Fatalf("line %d: label %d out of range", ex.Line, ex.Label)
			}
			if strings.TrimSpace(ex.TextA) == "" || task.IsPair() != (ex.TextB != "") {
				t.Fatalf("line %d: bad texts %q, %q", ex.Line, ex.TextA, ex.TextB)
			}
			if strings.ContainsAny(ex.TextA+ex.TextB, "\t\n\r\x00") {
				t.Fatalf("line %d: texts hold a separator", ex.Line)
			}
		}
		if len(skip.Errors) == 0 {
			if stopErr != nil {
				t.Fatalf("stop failed with %v where skip found no bad row", stopErr)
			}
			if len(stop.Examples) != len(skip.Examples) {
				t.Fatalf("stop read %d examples, skip %d", len(stop.Examples), len(skip.Examples))
			}
			return
		}
		if stopErr == nil || stopErr.Error() != skip.Errors[0].Error() {
			t.Fatalf("stop returned %v, want the first skipped row's error %v", stopErr, skip.Errors[0])
		}
	})
}

// FuzzMetrics checks that the metrics stay in [0, 1] (the Matthews correlation in [-1, 1]), never hold NaN and
// always marshal.
func FuzzMetrics(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		preds := make([]int, len(data)/2)
		labels := make([]int, len(data)/2)
		for i := range preds {
			preds[i] = int(data[2*i] % 3)
			labels[i] = int(data[2*i+1] % 3)
		}
		for _, task := range Tasks() {
			m, err := task.Evaluate(preds, labels)
			if err != nil {
				continue
			}
			for k, v := range m {
				lo := 0.0
				if k == "matthews_correlation" {
					lo = -1
				}
				if math.IsNaN(v) || v < lo || v > 1 {
					t.Fatalf("%s: %s = %v", task.Name, k, v)
				}
			}
			if _, err := json.Marshal(m); err != nil {
				t.Fatalf("%s: marshal: %v", task.Name, err)
			}
		}
	})
}
