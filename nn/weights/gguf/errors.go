package gguf

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped by the errors returned for a metadata key or tensor
// name that the file does not contain; test for it with errors.Is.
var ErrNotFound = errors.New("not found")

// FormatError reports a malformed GGUF file. Offset is the byte offset in the
// file where the problem was detected, or -1 when it does not apply.
type FormatError struct {
	Path   string
	Offset int64
	Msg    string
}

// Error formats the error as "gguf: PATH: offset N: MSG".
func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("gguf: %s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("gguf: %s: offset %d: %s", e.Path, e.Offset, e.Msg)
}

// TypeError reports a metadata value whose type does not fit the accessor
// that read it.
type TypeError struct {
	Path string
	Key  string
	Want string
	Got  string
}

// Error formats the error naming the key, the wanted and the actual type.
func (e *TypeError) Error() string {
	return fmt.Sprintf("gguf: %s: metadata key %q is %s, want %s", e.Path, e.Key, e.Got, e.Want)
}
