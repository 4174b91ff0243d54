package instruct

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// flanReference is what scripts/reference/flan_encode.py writes.
type flanReference struct {
	Records []struct {
		Line      int    `json:"line"`
		Text      string `json:"text"`
		EOS       string `json:"eos"`
		Encodings map[string]struct {
			InputIDs []int `json:"input_ids"`
			Labels   []int `json:"labels"`
		} `json:"encodings"`
	} `json:"records"`
}

// TestMasksMatchOpenInstruct encodes the sample file (flan-style and chat records) with the real Llama-2
// tokenizer and SmolLM2's (read from its GGUF file, as cmd/llama reads it), through LoadData and, at lengths that
// cut records, through the per-line encoder, and compares the input ids and labels with open-instruct's
// encoding on the Hugging Face tokenizers (flan_encode.py --tokenizer): the prompt mask must end where
// open-instruct's does, whatever the tokenizer merges across the prompt/target boundary.
func TestMasksMatchOpenInstruct(t *testing.T) {
	path := filepath.Join("testdata", "instruct_sample.jsonl")
	tests := []struct {
		name, goTok string
		pyArgs      []string
		eos         string
	}{
		{"llama-2", filepath.Dir(reftest.Shared(t, "tokenizers", "llama2", "tokenizer.model")),
			[]string{"--tokenizer", "llama_slow:" + filepath.Dir(reftest.Shared(t, "tokenizers", "llama2", "tokenizer.model"))}, "</s>"},
		{"smollm2", reftest.SmolLM2(t),
			[]string{"--tokenizer", "fast_file:" + filepath.Join(reftest.Root(t), ".cache", "tokenizers", "smollm2", "tokenizer.json"),
				"--eos", "<|im_end|>"}, "<|im_end|>"},
	}
	maxLens := []int{512, 40, 24}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tokenizer.Load(tc.goTok)
			require.NoError(t, err)
			eos, ok := tok.Token(tok.EOS())
			require.True(t, ok)
			require.Equal(t, tc.eos, eos, "the tokenizer's end-of-sequence token")
			var ref flanReference
			args := append([]string{"--file", path, "--max_lens", "512,40,24"}, tc.pyArgs...)
			require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "flan_encode.py", args...)), &ref))

			all, rep, err := LoadData(path, tok, DataOptions{MaxLen: 512})
			require.NoError(t, err)
			require.Len(t, all, len(ref.Records), "every record kept at 512 tokens (%v)", rep.NoTarget)
			lines, err := os.ReadFile(path)
			require.NoError(t, err)
			rows := strings.Split(strings.TrimRight(string(lines), "\n"), "\n")
			for i, r := range ref.Records {
				require.Equal(t, tc.eos, r.EOS)
				want := r.Encodings["512"]
				assert.Equal(t, want.InputIDs, all[i].InputIDs, "line %d: input ids", r.Line)
				assert.Equal(t, want.Labels, all[i].Labels, "line %d: labels", r.Line)
				for _, m := range maxLens[1:] {
					enc, ok, err := encodeLine([]byte(rows[r.Line-1]), path, r.Line, eos, Tokenize(tok), m)
					require.NoError(t, err)
					require.True(t, ok)
					want := r.Encodings[strconv.Itoa(m)]
					assert.Equal(t, want.InputIDs, enc.InputIDs, "line %d max %d: input ids", r.Line, m)
					assert.Equal(t, want.Labels, enc.Labels, "line %d max %d: labels", r.Line, m)
				}
			}
		})
	}
}

// TestInstructEncodeParity encodes the sample file with the Go formatter and
// encoder and with scripts/reference/flan_encode.py (open-instruct's
// finetune.py logic), using the same toy tokenizer, at several maximum
// lengths, and requires identical text, input ids and labels.
func TestInstructEncodeParity(t *testing.T) {
	path := filepath.Join("testdata", "instruct_sample.jsonl")
	maxLens := []int{512, 16, 40}
	out := []byte(reftest.Run(t, "flan_encode.py", "--file", path, "--max_lens", "512,16,40"))
	var ref struct {
		Records []struct {
			Line      int    `json:"line"`
			Text      string `json:"text"`
			Encodings map[string]struct {
				InputIDs []int `json:"input_ids"`
				Labels   []int `json:"labels"`
			} `json:"encodings"`
		} `json:"records"`
	}
	require.NoError(t, json.Unmarshal(out, &ref))

	examples, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, examples, len(ref.Records))
	for i, ex := range examples {
		r := ref.Records[i]
		require.Equal(t, r.Line, ex.Line)
		f, err := Format(ex, "</s>")
		require.NoError(t, err)
		assert.Equal(t, r.Text, f.Text, "line %d", ex.Line)
		for _, m := range maxLens {
			enc, err := f.Encode(toyTokenize, m)
			require.NoError(t, err)
			want := r.Encodings[strconv.Itoa(m)]
			assert.Equal(t, want.InputIDs, enc.InputIDs, "line %d max %d", ex.Line, m)
			assert.Equal(t, want.Labels, enc.Labels, "line %d max %d", ex.Line, m)
		}
	}
}
