package glue

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Policy chooses what a reader does with a bad row.
type Policy int

const (
	// StopAtFirstError makes a reader return the first bad row's error (the default).
	StopAtFirstError Policy = iota
	// SkipBadRows makes a reader skip bad rows, counting them and keeping each row's error.
	SkipBadRows
)

// String names the policy.
func (p Policy) String() string {
	switch p {
	case StopAtFirstError:
		return "stop"
	case SkipBadRows:
		return "skip"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// LineError is a problem with one physical line of a file. Line is 1-based; the header is line 1.
type LineError struct {
	File string
	Line int
	Msg  string
}

// Error formats the error as "file:line: message".
func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Record is one data row of a TSV file: its fields in header order and its 1-based physical line.
type Record struct {
	Line   int
	Fields []string
}

// TSVReader reads a GLUE TSV file: a header row, then one row per physical line, fields
// separated by tabs, lines ending in LF or CRLF, an optional UTF-8 byte order mark. Quote
// characters are ordinary text: GLUE files are written without CSV quoting (Python reads them
// with csv.QUOTE_NONE), so a row can never span lines and a line number names a row exactly.
//
// Empty lines at the end of the file are ignored; an empty line followed by more data is a bad
// row. Rows whose field count differs from the header's, rows that are not valid UTF-8 and rows
// holding a NUL byte or a carriage return other than the line ending (Python would end the line
// there) are bad rows too: Next reports them as a *LineError and the reader stays usable, so a
// caller may skip them.
type TSVReader struct {
	name   string
	br     *bufio.Reader
	line   int
	eof    bool
	header []string
	index  map[string]int
	queue  []rawLine
	err    error
}

type rawLine struct {
	n    int
	text string
}

// NewTSVReader reads the header row of r. name is used in error messages (usually the path).
// Missing, empty or invalid header rows and duplicate column names are errors.
func NewTSVReader(r io.Reader, name string) (*TSVReader, error) {
	t := &TSVReader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
	text, n, err := t.readLine()
	if errors.Is(err, io.EOF) {
		return nil, &LineError{File: name, Line: 1, Msg: "empty file: want a header row"}
	}
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, &LineError{File: name, Line: n, Msg: "empty header row"}
	}
	if msg := checkLine(text); msg != "" {
		return nil, &LineError{File: name, Line: n, Msg: "header: " + msg}
	}
	if err := t.setHeader(strings.Split(text, "\t"), n); err != nil {
		return nil, err
	}
	return t, nil
}

// NewHeaderlessTSVReader reads r, a file without a header row (CoLA's train and dev files), as if its header
// were columns: every line is a data row. Duplicate column names are an error naming line 1.
func NewHeaderlessTSVReader(r io.Reader, name string, columns []string) (*TSVReader, error) {
	if len(columns) == 0 {
		return nil, fmt.Errorf("glue: %s: no columns given for a file without header", name)
	}
	t := &TSVReader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
	if err := t.setHeader(slices.Clone(columns), 1); err != nil {
		return nil, err
	}
	return t, nil
}

// setHeader indexes the column names of line n.
func (t *TSVReader) setHeader(header []string, n int) error {
	t.header = header
	t.index = make(map[string]int, len(t.header))
	for i, col := range t.header {
		if col == "" {
			continue
		}
		if j, dup := t.index[col]; dup {
			return &LineError{File: t.name, Line: n,
				Msg: fmt.Sprintf("duplicate column %q (fields %d and %d)", col, j+1, i+1)}
		}
		t.index[col] = i
	}
	return nil
}

// Name returns the name given to NewTSVReader.
func (t *TSVReader) Name() string { return t.name }

// Header returns a copy of the column names.
func (t *TSVReader) Header() []string { return append([]string(nil), t.header...) }

// Columns returns the field index of each named column, or an error naming the first missing one.
func (t *TSVReader) Columns(names ...string) ([]int, error) {
	idx := make([]int, len(names))
	for i, name := range names {
		j, ok := t.index[name]
		if !ok {
			return nil, &LineError{File: t.name, Line: 1, Msg: fmt.Sprintf("missing column %q (header: %s)",
				name, strings.Join(t.header, ", "))}
		}
		idx[i] = j
	}
	return idx, nil
}

// Column returns the field index of a column and whether the header has it.
func (t *TSVReader) Column(name string) (int, bool) {
	j, ok := t.index[name]
	return j, ok
}

// Next returns the next data row. At the end it returns io.EOF. A bad row gives a *LineError
// and the reader moves past it; any other error (from the underlying reader) is final.
func (t *TSVReader) Next() (Record, error) {
	if len(t.queue) > 0 {
		l := t.queue[0]
		t.queue = t.queue[1:]
		return t.parse(l)
	}
	text, n, err := t.readLine()
	if err != nil {
		return Record{}, err
	}
	if text != "" {
		return t.parse(rawLine{n: n, text: text})
	}
	// An empty line: ignored if only empty lines follow, a bad row otherwise.
	first := n
	var rest []rawLine
	for {
		text, n, err = t.readLine()
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		if err != nil {
			return Record{}, err
		}
		rest = append(rest, rawLine{n: n, text: text})
		if text != "" {
			t.queue = rest
			return Record{}, &LineError{File: t.name, Line: first, Msg: "empty line"}
		}
	}
}

func (t *TSVReader) parse(l rawLine) (Record, error) {
	if l.text == "" {
		return Record{}, &LineError{File: t.name, Line: l.n, Msg: "empty line"}
	}
	if msg := checkLine(l.text); msg != "" {
		return Record{}, &LineError{File: t.name, Line: l.n, Msg: msg}
	}
	fields := strings.Split(l.text, "\t")
	if len(fields) != len(t.header) {
		return Record{}, &LineError{File: t.name, Line: l.n,
			Msg: fmt.Sprintf("got %d tab-separated fields, header has %d", len(fields), len(t.header))}
	}
	return Record{Line: l.n, Fields: fields}, nil
}

// checkLine returns why a line (without its ending) is unreadable, or "".
func checkLine(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	if strings.IndexByte(s, '\r') >= 0 {
		return "carriage return inside the line"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "NUL byte in the line"
	}
	return ""
}

// readLine returns the next physical line without its LF or CRLF ending, and its 1-based number.
func (t *TSVReader) readLine() (string, int, error) {
	if t.err != nil {
		return "", t.line, t.err
	}
	if t.eof {
		return "", t.line, io.EOF
	}
	s, err := t.br.ReadString('\n')
	if err != nil {
		if !errors.Is(err, io.EOF) {
			t.err = fmt.Errorf("%s:%d: %w", t.name, t.line+1, err)
			return "", t.line, t.err
		}
		t.eof = true
		if s == "" {
			return "", t.line, io.EOF
		}
	}
	t.line++
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if t.line == 1 {
		s = strings.TrimPrefix(s, "\ufeff")
	}
	return s, t.line, nil
}
