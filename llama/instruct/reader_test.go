package instruct

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadInstructSample(t *testing.T) {
	path := filepath.Join("testdata", "instruct_sample.jsonl")
	exs, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, exs, 20)
	chat := 0
	for i, ex := range exs {
		assert.Equal(t, path, ex.File)
		want := i + 1
		if i >= 10 {
			want++ // line 11 is blank
		}
		assert.Equal(t, want, ex.Line)
		if ex.IsChat() {
			chat++
			assert.NotEmpty(t, ex.Messages)
		}
	}
	assert.Equal(t, 10, chat)
	assert.Equal(t, "Q: What is the capital of Australia?\nA:", exs[1].Prompt)
	assert.Equal(t, "Canberra", exs[1].Completion)
	assert.Equal(t, Message{Role: RoleSystem, Content: "You are a concise assistant."}, exs[11].Messages[0])
	assert.Equal(t, "", exs[8].Prompt)
}

func TestReadInstructKeys(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Example
	}{
		{"inputs/targets", `{"inputs": "a", "targets": "b", "task": "x"}`, Example{Prompt: "a", Completion: "b"}},
		{"prompt/completion", `{"prompt": "a", "completion": "b"}`, Example{Prompt: "a", Completion: "b"}},
		{"messages", `{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "x": 1}]}`,
			Example{Messages: []Message{{RoleUser, "hi"}, {RoleAssistant, "yo"}}}},
		{"escapes and crlf", "{\"inputs\": \"tab\\t\\u00e9\", \"targets\": \"\"}\r\n", Example{Prompt: "tab\té", Completion: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in), "in.jsonl")
			require.NoError(t, err)
			require.Len(t, got, 1)
			tt.want.File, tt.want.Line = "in.jsonl", 1
			assert.Equal(t, tt.want, got[0])
		})
	}
}

func TestReadInstructErrors(t *testing.T) {
	good := `{"inputs": "a", "targets": "b"}` + "\n"
	tests := []struct {
		name string
		line string
		key  string
		err  string
	}{
		{"not json", `{"inputs": "a", "targets": }`, "", "invalid JSON"},
		{"trailing data", `{"inputs": "a", "targets": "b"} {}`, "", "invalid JSON"},
		{"array", `["a", "b"]`, "", "want a JSON object, got array"},
		{"null", `null`, "", "want a JSON object, got null"},
		{"no known key", `{"text": "a"}`, "", `missing key: want "messages", or "inputs" and "targets"`},
		{"missing targets", `{"inputs": "a"}`, "targets", "missing key"},
		{"missing inputs", `{"targets": "a"}`, "inputs", "missing key"},
		{"missing completion", `{"prompt": "a"}`, "completion", "missing key"},
		{"number inputs", `{"inputs": 3, "targets": "b"}`, "inputs", "want a string, got number"},
		{"null targets", `{"inputs": "a", "targets": null}`, "targets", "want a string, got null"},
		{"both layouts", `{"inputs": "a", "targets": "b", "messages": []}`, "inputs", `both "inputs" and "messages"`},
		{"messages not array", `{"messages": {"role": "user"}}`, "messages", "want an array, got object"},
		{"messages empty", `{"messages": []}`, "messages", "empty array"},
		{"message not object", `{"messages": ["hi"]}`, "messages[0]", "want an object, got string"},
		{"missing role", `{"messages": [{"content": "hi"}]}`, "messages[0].role", "missing key"},
		{"bad role", `{"messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "hi"}]}`, "messages[1].role", `invalid role "bot"`},
		{"missing content", `{"messages": [{"role": "user"}]}`, "messages[0].content", "missing key"},
		{"content list", `{"messages": [{"role": "user", "content": ["a"]}]}`, "messages[0].content", "want a string, got array"},
		{"bool content", `{"messages": [{"role": "user", "content": true}]}`, "messages[0].content", "want a string, got boolean"},
		{"invalid utf8", "{\"inputs\": \"\xff\", \"targets\": \"b\"}", "", "invalid UTF-8"},
		{"non-JSON whitespace", "\u00a0{\"inputs\": \"a\", \"targets\": \"b\"}", "", "want a JSON object, got invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good + "\n" + tt.line + "\n" + good
			_, err := Read(strings.NewReader(in), "data.jsonl")
			require.Error(t, err)
			var le *LineError
			require.True(t, errors.As(err, &le), "want a *LineError, got %T: %v", err, err)
			assert.Equal(t, "data.jsonl", le.File)
			assert.Equal(t, 3, le.Line)
			assert.Equal(t, tt.key, le.Key)
			assert.Contains(t, err.Error(), tt.err)
			prefix := "data.jsonl:3: "
			if tt.key != "" {
				prefix += tt.key + ": "
			}
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "%q does not start with %q", err.Error(), prefix)
		})
	}
}

func TestReadInstructLongLine(t *testing.T) {
	long := strings.Repeat("word ", 100000)
	got, err := Read(strings.NewReader(`{"inputs": "`+long+`", "targets": "x"}`), "long.jsonl")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, long, got[0].Prompt)
}

func TestReadInstructMissingFile(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "none.jsonl"))
	assert.ErrorContains(t, err, "none.jsonl")
}

// A UTF-8 byte order mark may start the input (editors write one), as the TSV and CSV readers accept; anywhere
// else it is an error naming the line.
func TestReadInstructByteOrderMark(t *testing.T) {
	rec := `{"inputs": "a", "targets": "b"}` + "\n"
	got, err := Read(strings.NewReader("\xef\xbb\xbf"+rec+rec), "bom.jsonl")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, Example{Prompt: "a", Completion: "b", File: "bom.jsonl", Line: 1}, got[0])
	_, err = Read(strings.NewReader(rec+"\xef\xbb\xbf"+rec), "bom.jsonl")
	assert.EqualError(t, err, "bom.jsonl:2: UTF-8 byte order mark (U+FEFF) at the start of the line; only the file may start with one")
	ex, ok, err := ParseLine([]byte("\xef\xbb\xbf \r\n"), "bom.jsonl", 1)
	require.NoError(t, err)
	assert.False(t, ok, "a blank first line after the mark holds no record")
	assert.Equal(t, Example{}, ex)
}
