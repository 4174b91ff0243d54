package glue

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll reads every row of a TSV text, collecting records and row errors.
func readAll(t *testing.T, text string) (*TSVReader, []Record, []string) {
	t.Helper()
	tr, err := NewTSVReader(strings.NewReader(text), "f.tsv")
	require.NoError(t, err)
	var recs []Record
	var errs []string
	for {
		rec, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tr, recs, errs
		}
		if err != nil {
			var le *LineError
			require.ErrorAs(t, err, &le)
			errs = append(errs, err.Error())
			continue
		}
		recs = append(recs, rec)
	}
}

func TestTSVReaderRows(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		header []string
		recs   []Record
		errs   []string
	}{
		{
			name:   "plain LF",
			text:   "a\tb\nx\ty\nz\tw\n",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{"x", "y"}}, {3, []string{"z", "w"}}},
		},
		{
			name:   "CRLF",
			text:   "a\tb\r\nx\ty\r\nz\tw\r\n",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{"x", "y"}}, {3, []string{"z", "w"}}},
		},
		{
			name:   "no final newline",
			text:   "a\tb\nx\ty",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{"x", "y"}}},
		},
		{
			name:   "BOM",
			text:   "\ufeffa\tb\nx\ty\n",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{"x", "y"}}},
		},
		{
			name:   "trailing empty lines ignored",
			text:   "a\tb\nx\ty\n\n\r\n\n",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{"x", "y"}}},
		},
		{
			name:   "quotes are text",
			text:   "a\tb\n\"x\t\"y\"\"\n'q\t\"open\n",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{`"x`, `"y""`}}, {3, []string{"'q", `"open`}}},
		},
		{
			name:   "empty fields are kept",
			text:   "a\tb\tc\n\t\t\n",
			header: []string{"a", "b", "c"},
			recs:   []Record{{2, []string{"", "", ""}}},
		},
		{
			name:   "header only",
			text:   "a\tb\n",
			header: []string{"a", "b"},
		},
		{
			name:   "wrong field counts",
			text:   "a\tb\nx\n1\t2\t3\nok\tok\n",
			header: []string{"a", "b"},
			recs:   []Record{{4, []string{"ok", "ok"}}},
			errs: []string{
				"f.tsv:2: got 1 tab-separated fields, header has 2",
				"f.tsv:3: got 3 tab-separated fields, header has 2",
			},
		},
		{
			name:   "empty lines inside the data",
			text:   "a\tb\nx\ty\n\n\nz\tw\n\n",
			header: []string{"a", "b"},
			recs:   []Record{{2, []string{"x", "y"}}, {5, []string{"z", "w"}}},
			errs:   []string{"f.tsv:3: empty line", "f.tsv:4: empty line"},
		},
		{
			name:   "invalid UTF-8, stray CR, NUL",
			text:   "a\tb\nx\xff\ty\nx\ry\tz\nx\x00\ty\nu\tv\n",
			header: []string{"a", "b"},
			recs:   []Record{{5, []string{"u", "v"}}},
			errs:   []string{"f.tsv:2: invalid UTF-8", "f.tsv:3: carriage return inside the line", "f.tsv:4: NUL byte in the line"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, recs, errs := readAll(t, tc.text)
			assert.Equal(t, tc.header, tr.Header())
			assert.Equal(t, tc.recs, recs)
			assert.Equal(t, tc.errs, errs)
		})
	}
}

func TestTSVReaderHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty file", "", "f.tsv:1: empty file: want a header row"},
		{"BOM only", "\ufeff", "f.tsv:1: empty header row"},
		{"blank header", "\nx\ty\n", "f.tsv:1: empty header row"},
		{"duplicate column", "a\tb\ta\n", `f.tsv:1: duplicate column "a" (fields 1 and 3)`},
		{"invalid UTF-8", "a\xc3\tb\n", "f.tsv:1: header: invalid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTSVReader(strings.NewReader(tc.text), "f.tsv")
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestTSVReaderColumns(t *testing.T) {
	tr, err := NewTSVReader(strings.NewReader("label\tsentence\t\n"), "f.tsv")
	require.NoError(t, err)
	idx, err := tr.Columns("sentence", "label")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0}, idx)
	_, err = tr.Columns("sentence", "gold_label")
	require.EqualError(t, err, `f.tsv:1: missing column "gold_label" (header: label, sentence, )`)
	_, ok := tr.Column("")
	assert.False(t, ok, "empty column names are not indexed")
}

func TestTSVReaderReadFailure(t *testing.T) {
	r := io.MultiReader(strings.NewReader("a\tb\nx\ty\n"), iotest.ErrReader(errors.New("disk gone")))
	tr, err := NewTSVReader(r, "f.tsv")
	require.NoError(t, err)
	_, err = tr.Next()
	require.NoError(t, err)
	_, err = tr.Next()
	require.EqualError(t, err, "f.tsv:3: disk gone")
	var le *LineError
	assert.False(t, errors.As(err, &le), "read failures are not row errors")
	_, err = tr.Next()
	require.Error(t, err, "read failures are final")
}

func TestPolicyString(t *testing.T) {
	assert.Equal(t, "stop", StopAtFirstError.String())
	assert.Equal(t, "skip", SkipBadRows.String())
	assert.Equal(t, "Policy(7)", Policy(7).String())
}
