package gguf

import (
	"errors"
	"io"
	"os"
)

// IsFile reports whether path is a regular file to be read as GGUF: it starts with the GGUF magic, or it is too
// short to hold the magic at all. Such a file is a truncated download far more often than anything else, and
// Open then reports it as a bad GGUF file, naming its size, instead of its being taken for something else.
func IsFile(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil {
		return n < len(magic) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
	}
	return string(magic[:]) == Magic
}

// Check parses the header, metadata and tensor table of a GGUF file without reading tensor data, and returns
// the parser's error for a damaged or foreign file (naming the file and the offset). Commands call it to tell
// a bad GGUF file from a model folder before loading anything.
func Check(path string) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}
