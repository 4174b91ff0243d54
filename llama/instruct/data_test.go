package instruct_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama/instruct"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

func TestLoadInstructData(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Join(reftest.Root(t), "..", "shared", "data", "tokenizers", "llama2"))
	require.NoError(t, err, "the shared Llama-2 tokenizer")
	write := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "d.jsonl")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	good := `{"inputs": "Q: 2+2?", "targets": "4"}` + "\n" +
		`{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}` + "\n"
	long := `{"inputs": "` + strings.Repeat("word ", 40) + `", "targets": "end"}` + "\n"
	tests := []struct {
		name     string
		body     string
		o        instruct.DataOptions
		n        int
		skipped  int
		noTarget int
		err      string
	}{
		{"both formats", good, instruct.DataOptions{}, 2, 0, 0, ""},
		{"limit", good, instruct.DataOptions{Limit: 1}, 1, 0, 0, ""},
		{"target cut away", good + long, instruct.DataOptions{MaxLen: 24}, 2, 0, 1, ""},
		{"bad row stops", good + "[1]\n", instruct.DataOptions{}, 0, 0, 0, "d.jsonl:3: want a JSON object, got array"},
		{"bad row skipped", "\n" + `{"inputs": 1, "targets": "x"}` + "\n" + good, instruct.DataOptions{SkipBad: true}, 2, 1, 0, ""},
		{"nothing usable", "{}\n", instruct.DataOptions{SkipBad: true}, 0, 0, 0, "d.jsonl: no usable examples (1 malformed records skipped)"},
		{"empty file", "\n \n", instruct.DataOptions{}, 0, 0, 0, "d.jsonl: no usable examples (the file holds no JSON record)"},
		{"every target cut away", long, instruct.DataOptions{MaxLen: 24}, 0, 0, 0,
			"d.jsonl: no usable examples (1 left with no target token within the maximum length)"},
		{"byte order mark", "\xef\xbb\xbf" + good, instruct.DataOptions{}, 2, 0, 0, ""},
		{"byte order mark on a blank first line", "\xef\xbb\xbf\n" + good, instruct.DataOptions{}, 2, 0, 0, ""},
		{"byte order mark inside", good + "\xef\xbb\xbf" + good, instruct.DataOptions{}, 0, 0, 0,
			"d.jsonl:3: UTF-8 byte order mark (U+FEFF) at the start of the line; only the file may start with one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, rep, err := instruct.LoadData(write(t, tc.body), tok, tc.o)
			if tc.err != "" {
				require.Error(t, err)
				assert.True(t, strings.HasSuffix(err.Error(), tc.err), "%q does not end in %q", err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, enc, tc.n)
			assert.Len(t, rep.Skipped, tc.skipped)
			assert.Len(t, rep.NoTarget, tc.noTarget)
			for _, e := range enc {
				assert.Equal(t, tok.BOS(), e.InputIDs[0])
				assert.Equal(t, instruct.IgnoreIndex, e.Labels[0])
				assert.Equal(t, tok.EOS(), e.Labels[len(e.Labels)-1], "the end-of-sequence token is trained")
			}
		})
	}
	if t.Failed() {
		return
	}
	_, rep, err := instruct.LoadData(write(t, "\n"+`{"inputs": 1, "targets": "x"}`+"\n"+good), tok, instruct.DataOptions{SkipBad: true})
	require.NoError(t, err)
	assert.Contains(t, rep.String(), "d.jsonl:2: inputs")
}

func TestInstructBatch(t *testing.T) {
	ex := []instruct.Encoded{{InputIDs: []int{1, 5, 6}, Labels: []int{-100, -100, 6}}, {InputIDs: []int{1, 7}, Labels: []int{-100, 7}}}
	ids, mask, labels := instruct.Batch(ex, 0)
	assert.Equal(t, []int64{2, 3}, ids.MustSize())
	assert.Equal(t, []int64{1, 5, 6, 1, 7, 0}, ids.Int64Values(true))
	assert.Equal(t, []int64{1, 1, 1, 1, 1, 0}, mask.Int64Values(true))
	assert.Equal(t, []int64{-100, -100, 6, -100, 7, -100}, labels.Int64Values(true))
}
