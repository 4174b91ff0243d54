package glue

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReadTestFile reads the test splits' layouts: texts by header name, the ID column (index, QQP's id) or the row
// number from 0; a missing text column and an empty text are errors naming the file (and line).
func TestReadTestFile(t *testing.T) {
	for _, tc := range []struct {
		task, text string
		ids, a, b  []string
		err        string
	}{
		{"mnli", "index\tpromptID\tsentence1\tsentence2\n7\tx\tA cat.\tA dog.\n9\ty\tB.\tC.\n", []string{"7", "9"},
			[]string{"A cat.", "B."}, []string{"A dog.", "C."}, ""},
		{"qqp", "id\tquestion1\tquestion2\n30\tWhy?\tHow?\n", []string{"30"}, []string{"Why?"}, []string{"How?"}, ""},
		{"sst-2", "sentence\ngood film\nbad film\n", []string{"0", "1"}, []string{"good film", "bad film"}, []string{"", ""}, ""},
		{"rte", "index\tsentence1\n0\tx\n", nil, nil, nil, `"sentence2"`},
		{"mnli", "index\tsentence1\tsentence2\n0\tA.\t \n", nil, nil, nil, `test.tsv:2: empty text in column "sentence2"`},
		{"cola", "index\tsentence\n", nil, nil, nil, "holds no examples"},
	} {
		t.Run(tc.task+" "+tc.err, func(t *testing.T) {
			task, err := TaskByName(tc.task)
			require.NoError(t, err)
			p := filepath.Join(t.TempDir(), "test.tsv")
			require.NoError(t, os.WriteFile(p, []byte(tc.text), 0o644))
			ex, err := task.ReadTestFile(p)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, ex, len(tc.ids))
			for i, e := range ex {
				assert.Equal(t, []string{tc.ids[i], tc.a[i], tc.b[i]}, []string{e.ID, e.TextA, e.TextB})
			}
		})
	}
}

func TestWritePredictions(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WritePredictions(&b, []string{"0", "1"}, []string{"entailment", "neutral"}))
	assert.Equal(t, "index\tprediction\n0\tentailment\n1\tneutral\n", b.String())
	assert.ErrorContains(t, WritePredictions(&b, []string{"0"}, nil), "1 ids for 0 predictions")
}
