// Package dataerr holds the error the Llama tasks' readers (llama/instruct's JSONL, llama/mmlu's CSV) report for
// a bad record; each task package re-exports it as its LineError.
package dataerr

import "fmt"

// LineError reports a problem with one record of a data file. File is the file name given to the reader, Line
// the 1-based line where the record starts, and Key names the offending column or JSON key when there is one.
type LineError struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error formats the error as "file:line: key: msg" (key omitted when empty).
func (e *LineError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// New returns a LineError whose message is formatted from format and args.
func New(file string, line int, key, format string, args ...any) *LineError {
	return &LineError{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}
