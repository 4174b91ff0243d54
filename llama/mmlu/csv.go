package mmlu

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/loraplus-go/loraplus/llama/internal/dataerr"
)

// crSentinel stands in for a carriage return inside a quoted field while
// encoding/csv parses the input: csv drops the \r of every \r\n pair, even
// inside quotes, while Python's csv module and pandas keep it. 0xFF never
// occurs in valid UTF-8, and input is checked to be valid UTF-8 first.
const crSentinel = 0xFF

// csvRecord is one parsed CSV record and the 1-based line where it starts.
type csvRecord struct {
	Fields []string
	Line   int
}

// readCSV parses comma-separated records from raw the way Python's csv
// module does with its default dialect: quoted fields may hold commas,
// newlines, doubled quotes and \r\n (kept verbatim), and a quote inside an
// unquoted field is an ordinary character. Input on which parsers disagree
// is rejected with a *LineError instead: invalid UTF-8, a carriage return
// outside quotes that does not end a line, a closing quote followed by
// anything but a comma or line end, and a quoted field left open at the end.
// A leading UTF-8 byte order mark is skipped. When fields > 0 every record
// must have exactly that many fields.
func readCSV(raw []byte, name string, fields int) ([]csvRecord, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		return nil, dataerr.New(name, invalidUTF8Line(raw), "", "invalid UTF-8")
	}
	buf := append([]byte(nil), raw...)
	if err := protectQuotedCR(buf, name); err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(buf))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	var out []csvRecord
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, dataerr.New(name, pe.Line, "", "column %d: %v", pe.Column, pe.Err)
			}
			return nil, dataerr.New(name, 0, "", "%v", err)
		}
		line, _ := cr.FieldPos(0)
		if fields > 0 && len(rec) != fields {
			return nil, dataerr.New(name, line, "", "got %d fields, want %d", len(rec), fields)
		}
		for i := range rec {
			if strings.IndexByte(rec[i], crSentinel) >= 0 {
				rec[i] = strings.ReplaceAll(rec[i], "\xff", "\r")
			}
		}
		out = append(out, csvRecord{Fields: rec, Line: line})
	}
}

// protectQuotedCR walks b with the states of a CSV tokenizer and replaces,
// in place, every \r inside a quoted field with crSentinel. It rejects the
// constructs on which encoding/csv (with LazyQuotes) and Python's csv module
// part ways; see readCSV.
func protectQuotedCR(b []byte, name string) error {
	const (
		fieldStart = iota
		inField
		inQuoted
		quoteInQuoted
	)
	state, line, quoteLine := fieldStart, 1, 0
	for i, c := range b {
		lineEnd := c == '\n' || (c == '\r' && (i+1 == len(b) || b[i+1] == '\n'))
		switch state {
		case fieldStart, inField:
			switch {
			case c == '"' && state == fieldStart:
				state, quoteLine = inQuoted, line
			case c == '\r' && !lineEnd:
				return dataerr.New(name, line, "", "carriage return not followed by a newline")
			case c == ',' || c == '\n':
				state = fieldStart
			case c != '\r':
				state = inField
			}
		case inQuoted:
			switch c {
			case '"':
				state = quoteInQuoted
			case '\r':
				b[i] = crSentinel
			}
		case quoteInQuoted:
			switch {
			case c == '"':
				state = inQuoted
			case c == ',' || c == '\n':
				state = fieldStart
			case lineEnd:
				state = inField
			default:
				r, _ := utf8.DecodeRune(b[i:])
				return dataerr.New(name, line, "", "closing quote of a quoted field followed by %q, want a comma or line end", r)
			}
		}
		if c == '\n' {
			line++
		}
	}
	if state == inQuoted {
		return dataerr.New(name, quoteLine, "", "quoted field not closed before the end of the input")
	}
	return nil
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
