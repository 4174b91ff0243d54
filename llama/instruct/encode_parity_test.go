package instruct

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
)

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
