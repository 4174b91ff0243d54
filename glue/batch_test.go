package glue

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countTokenizer encodes "w1 w2 ..." as [100, len(w1), len(w2), ..., 101]: a start id, one id per word, an end
// id; it cuts words from the end to fit maxLen. "FAIL" fails and "LONG" ignores maxLen.
func countTokenizer() Tokenizer {
	return Tokenizer{PadID: 0, Encode: func(a, b string, maxLen int) ([]int, bool, error) {
		if strings.Contains(a, "FAIL") {
			return nil, false, errors.New("cannot encode")
		}
		var words []int
		for _, w := range strings.Fields(a + " " + b) {
			words = append(words, len(w))
		}
		cut := false
		if len(words)+2 > maxLen && !strings.Contains(a, "LONG") {
			words, cut = words[:max(0, maxLen-2)], true
		}
		return append(append([]int{100}, words...), 101), cut, nil
	}}
}

func TestEncodeExamples(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		maxLen    int
		want      []int
		truncated int
		err       string
	}{
		{name: "fits", text: "a bb", maxLen: 8, want: []int{100, 1, 2, 101}},
		{name: "exact", text: "a bb", maxLen: 4, want: []int{100, 1, 2, 101}},
		{name: "truncated by the tokenizer", text: "a bb ccc dddd", maxLen: 4, want: []int{100, 1, 2, 101}, truncated: 1},
		{name: "encoder error names the line", text: "FAIL", maxLen: 4, err: "line 7: cannot encode"},
		{name: "encoding above max length", text: "LONG a bb", maxLen: 3, err: "line 7 encodes to 5 tokens, above the max length 3"},
		{name: "bad max length", text: "a", maxLen: 0, err: "max length must be > 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc, n, err := EncodeExamples([]Example{{TextA: c.text, Label: 1, Line: 7}}, countTokenizer(), c.maxLen)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, enc[0].IDs)
			assert.Equal(t, 1, enc[0].Label)
			assert.Equal(t, c.truncated, n)
		})
	}
	_, _, err := EncodeExamples(nil, Tokenizer{}, 4)
	require.ErrorContains(t, err, "no Encode function")
}

func TestMakeBatch(t *testing.T) {
	data := []Encoded{{IDs: []int{5, 6, 7}, Label: 2, Line: 2}, {IDs: []int{8}, Label: 0, Line: 3}}
	cases := []struct {
		name     string
		idx      []int
		cols     int
		ids      []int64
		mask     []int64
		labels   []int64
		rows, nc int
		err      string
	}{
		{name: "pad to max length", idx: []int{0, 1}, cols: 4, rows: 2, nc: 4,
			ids: []int64{5, 6, 7, 9, 8, 9, 9, 9}, mask: []int64{1, 1, 1, 0, 1, 0, 0, 0}, labels: []int64{2, 0}},
		{name: "pad to longest", idx: []int{1, 0}, cols: 0, rows: 2, nc: 3,
			ids: []int64{8, 9, 9, 5, 6, 7}, mask: []int64{1, 0, 0, 1, 1, 1}, labels: []int64{0, 2}},
		{name: "too long", idx: []int{0}, cols: 2, err: "line 2 has 3 tokens"},
		{name: "empty", idx: nil, cols: 2, err: "empty batch"},
		{name: "bad index", idx: []int{5}, cols: 4, err: "index 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := MakeBatch(data, c.idx, c.cols, 9)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.rows, b.Rows)
			assert.Equal(t, c.nc, b.Cols)
			assert.Equal(t, c.ids, b.IDs)
			assert.Equal(t, c.mask, b.Mask)
			assert.Equal(t, c.labels, b.Labels)
		})
	}
}
