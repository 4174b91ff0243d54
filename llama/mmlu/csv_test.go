package mmlu

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  [][]string
		lines []int
		err   string
	}{
		{"plain", "a,b\nc,d\n", [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 2}, ""},
		{"quoted comma and newline", "\"a,b\nc\",d\ne,f\n", [][]string{{"a,b\nc", "d"}, {"e", "f"}}, []int{1, 3}, ""},
		{"doubled quote", "\"say \"\"hi\"\"\",x\n", [][]string{{"say \"hi\"", "x"}}, []int{1}, ""},
		{"crlf records", "a,b\r\nc,d\r\n", [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 2}, ""},
		{"crlf inside quotes kept", "\"l1\r\nl2\",b\r\n", [][]string{{"l1\r\nl2", "b"}}, []int{1}, ""},
		{"bare quote in unquoted field", "Nietzsche's Truth?\",x\n", [][]string{{"Nietzsche's Truth?\"", "x"}}, []int{1}, ""},
		{"blank lines skipped", "a\n\n\nb\n", [][]string{{"a"}, {"b"}}, []int{1, 4}, ""},
		{"no final newline", "a,b", [][]string{{"a", "b"}}, []int{1}, ""},
		{"bom skipped", "\xef\xbb\xbfa,b\n", [][]string{{"a", "b"}}, []int{1}, ""},
		{"empty", "", nil, nil, ""},
		{"invalid utf8", "a\nb\xff\n", nil, nil, "in.csv:2: invalid UTF-8"},
		{"lone cr", "a\rb\n", nil, nil, "in.csv:1: carriage return not followed by a newline"},
		{"text after closing quote", "x\n\"a\"b,c\n", nil, nil, "in.csv:2: closing quote of a quoted field followed by 'b'"},
		{"text after closing quote, multibyte", "\"a\"é\n", nil, nil, "in.csv:1: closing quote of a quoted field followed by 'é'"},
		{"unterminated quote", "a\n\"b,c\nd\n", nil, nil, "in.csv:2: quoted field not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readCSV([]byte(tt.in), "in.csv", 0)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			var got [][]string
			var lines []int
			for _, r := range recs {
				got = append(got, r.Fields)
				lines = append(lines, r.Line)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.lines, lines)
		})
	}
}

// TestReadCSVMatchesPython parses random small inputs made of the
// characters that matter to CSV with readCSV and with Python's csv module
// (scripts/reference/mmlu_csv.py). Wherever readCSV accepts an input,
// Python must accept it too and give the same rows.
func TestReadCSVMatchesPython(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", ",", ",", "\"", "\"", "\n", "\r\n", "\r", " ", "é"}
	inputs := make([]string, 3000)
	for i := range inputs {
		var b bytes.Buffer
		for range rng.IntN(16) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		inputs[i] = b.String()
	}
	payload, err := json.Marshal(inputs)
	require.NoError(t, err)

	out := runReferenceInput(t, payload, "mmlu_csv.py")
	var ref []struct {
		Rows  [][]string `json:"rows"`
		Error *string    `json:"error"`
	}
	require.NoError(t, json.Unmarshal(out, &ref))
	require.Len(t, ref, len(inputs))

	accepted := 0
	for i, in := range inputs {
		recs, err := readCSV([]byte(in), "rand.csv", 0)
		if err != nil {
			continue
		}
		accepted++
		require.Nil(t, ref[i].Error, "input %q: Python rejects what readCSV accepts", in)
		var got [][]string
		for _, r := range recs {
			got = append(got, r.Fields)
		}
		want := ref[i].Rows
		if len(want) == 0 {
			want = nil
		}
		require.Equal(t, want, got, "input %q", in)
	}
	assert.Greater(t, accepted, len(inputs)/3, "too few random inputs accepted to be a useful comparison")
	t.Logf("%d of %d random inputs accepted and identical to Python's csv", accepted, len(inputs))
}
