package instruct

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/loraplus-go/loraplus/llama/internal/dataerr"
)

// Chat roles accepted in a "messages" record.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a chat record.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Example is one instruction-tuning record. Exactly one of the two layouts
// is set: Messages for a chat record, or Prompt and Completion for a
// prompt/completion record.
type Example struct {
	// Prompt and Completion come from the "inputs" and "targets" keys (the
	// flan-v2 layout) or from "prompt" and "completion" (open-instruct's).
	Prompt     string
	Completion string
	// Messages come from the "messages" key; nil for a prompt/completion record.
	Messages []Message
	// File and Line locate the record (Line is 1-based).
	File string
	Line int
}

// IsChat reports whether the example is a chat ("messages") record.
func (e Example) IsChat() bool { return e.Messages != nil }

// promptKeys are the accepted (prompt, completion) key pairs, in the order
// they are looked for.
var promptKeys = [][2]string{{"inputs", "targets"}, {"prompt", "completion"}}

// ReadFile reads a JSONL file of instruction-tuning records.
func ReadFile(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads JSONL records from r, one JSON object a line; lines of
// only JSON whitespace are skipped and keys other than the ones used are ignored. Each
// line is either {"inputs": string, "targets": string} (or "prompt" and
// "completion") or {"messages": [{"role": "system"|"user"|"assistant",
// "content": string}, ...]} with at least one message. A UTF-8 byte order
// mark at the start of the input is skipped (ParseLine). Errors have
// the form "name:line: key: problem".
func Read(r io.Reader, name string) ([]Example, error) {
	br := bufio.NewReader(r)
	var out []Example
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		ex, ok, perr := ParseLine(line, name, lineNo)
		if perr != nil {
			return nil, perr
		}
		if ok {
			out = append(out, ex)
		}
		if err != nil {
			return out, nil
		}
	}
}

// utf8BOM is the byte order mark some editors (Notepad, Excel's "UTF-8" export) put at the start of a UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// ParseLine parses line lineNo of the JSONL file name (see Read for the layouts); ok is false for
// a line of only JSON whitespace. On line 1 a leading UTF-8 byte order mark is skipped, as the GLUE TSV and MMLU
// CSV readers skip one; on any other line it is an error that names it (a file made by concatenating files).
func ParseLine(line []byte, name string, lineNo int) (ex Example, ok bool, err error) {
	if bytes.HasPrefix(line, []byte(utf8BOM)) {
		if lineNo != 1 {
			return Example{}, false, dataerr.New(name, lineNo, "", "UTF-8 byte order mark (U+FEFF) at the start of the line; only the file may start with one")
		}
		line = line[len(utf8BOM):]
	}
	if len(trimJSONSpace(line)) == 0 {
		return Example{}, false, nil
	}
	ex, err = parseLine(line, name, lineNo)
	return ex, err == nil, err
}

func parseLine(line []byte, name string, lineNo int) (Example, error) {
	if !utf8.Valid(line) {
		return Example{}, dataerr.New(name, lineNo, "", "invalid UTF-8")
	}
	line = trimJSONSpace(line)
	if line[0] != '{' {
		return Example{}, dataerr.New(name, lineNo, "", "want a JSON object, got %s", jsonKind(line))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return Example{}, dataerr.New(name, lineNo, "", "invalid JSON: %v", err)
	}
	ex := Example{File: name, Line: lineNo}
	if raw, ok := obj["messages"]; ok {
		for _, pair := range promptKeys {
			if _, dup := obj[pair[0]]; dup {
				return Example{}, dataerr.New(name, lineNo, pair[0], "record has both %q and \"messages\"", pair[0])
			}
		}
		msgs, err := parseMessages(raw, name, lineNo)
		if err != nil {
			return Example{}, err
		}
		ex.Messages = msgs
		return ex, nil
	}
	for _, pair := range promptKeys {
		_, hasP := obj[pair[0]]
		_, hasC := obj[pair[1]]
		if !hasP && !hasC {
			continue
		}
		var err error
		if ex.Prompt, err = stringField(obj, pair[0], pair[0], name, lineNo); err != nil {
			return Example{}, err
		}
		if ex.Completion, err = stringField(obj, pair[1], pair[1], name, lineNo); err != nil {
			return Example{}, err
		}
		return ex, nil
	}
	return Example{}, dataerr.New(name, lineNo, "", "missing key: want \"messages\", or \"inputs\" and \"targets\"")
}

func parseMessages(raw json.RawMessage, name string, lineNo int) ([]Message, error) {
	var items []json.RawMessage
	if k := jsonKind(raw); k != "array" {
		return nil, dataerr.New(name, lineNo, "messages", "want an array, got %s", k)
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, dataerr.New(name, lineNo, "messages", "%v", err)
	}
	if len(items) == 0 {
		return nil, dataerr.New(name, lineNo, "messages", "empty array")
	}
	msgs := make([]Message, len(items))
	for i, item := range items {
		key := fmt.Sprintf("messages[%d]", i)
		if k := jsonKind(item); k != "object" {
			return nil, dataerr.New(name, lineNo, key, "want an object, got %s", k)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(item, &obj); err != nil {
			return nil, dataerr.New(name, lineNo, key, "%v", err)
		}
		role, err := stringField(obj, "role", key+".role", name, lineNo)
		if err != nil {
			return nil, err
		}
		if !validRole(role) {
			return nil, dataerr.New(name, lineNo, key+".role", "invalid role %q: want system, user or assistant", role)
		}
		content, err := stringField(obj, "content", key+".content", name, lineNo)
		if err != nil {
			return nil, err
		}
		msgs[i] = Message{Role: role, Content: content}
	}
	return msgs, nil
}

func validRole(r string) bool {
	return r == RoleSystem || r == RoleUser || r == RoleAssistant
}

// stringField returns obj[key] as a string; a missing key or a value of
// another JSON type is a *LineError naming keyPath.
func stringField(obj map[string]json.RawMessage, key, keyPath, name string, lineNo int) (string, error) {
	raw, ok := obj[key]
	if !ok {
		return "", dataerr.New(name, lineNo, keyPath, "missing key")
	}
	if k := jsonKind(raw); k != "string" {
		return "", dataerr.New(name, lineNo, keyPath, "want a string, got %s", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", dataerr.New(name, lineNo, keyPath, "%v", err)
	}
	return s, nil
}

// trimJSONSpace drops the whitespace JSON allows around a value (space,
// tab, carriage return and newline).
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// jsonKind names the JSON type of an already validated value from its
// first byte.
func jsonKind(raw []byte) string {
	raw = trimJSONSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "number"
	}
	return "invalid JSON"
}
