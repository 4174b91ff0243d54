package mmlu

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/loraplus-go/loraplus/nn/reftest"

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

// pandasCases are constructed CSV files and the cells the original MMLU
// evaluator's pandas.read_csv(path, header=None) and "{}".format give for
// them; TestPandasFields checks them against pandas too.
var pandasCases = []struct {
	name string
	in   string
	want [][]string
}{
	{"strings and NA strings", "None,x\nNA,\"\"\nnull,n/a\n#N/A,-nan\n",
		[][]string{{"nan", "x"}, {"nan", "nan"}, {"nan", "nan"}, {"nan", "nan"}}},
	{"NA only when the whole field matches", " NA,None \nNone.,x\n", [][]string{{" NA", "None "}, {"None.", "x"}}},
	{"quoted NA", "\"None\",\"NA\"\nx,y\n", [][]string{{"nan", "nan"}, {"x", "y"}}},
	{"int64", "3,-0\n03,+7\n\" 4 \",-12\n", [][]string{{"3", "0"}, {"3", "7"}, {"4", "-12"}}},
	{"int64 with NA becomes float64", "3,1\nNA,None\n-5,2\n", [][]string{{"3.0", "1.0"}, {"nan", "nan"}, {"-5.0", "2.0"}}},
	{"large int64 with NA rounds as float64", "12345678901234567\nNA\n", [][]string{{"1.2345678901234568e+16"}, {"nan"}}},
	{"uint64", "18446744073709551615\n1\n", [][]string{{"18446744073709551615"}, {"1"}}},
	{"uint64 and NA keep NA verbatim", "18446744073709551615\nNA\n", [][]string{{"18446744073709551615"}, {"NA"}}},
	{"uint64 and minus sign", "18446744073709551615,x\n-abc,y\n", [][]string{{"18446744073709551615", "x"}, {"-abc", "y"}}},
	{"int64 underflow", "-9223372036854775809\nNA\n", [][]string{{"-9223372036854775809"}, {"nan"}}},
	{"uint64 overflow", "+99999999999999999999\n1.5\n", [][]string{{"+99999999999999999999"}, {"1.5"}}},
	{"uint64 then float64", "18446744073709551615\n1.5\n", [][]string{{"1.8446744073709552e+19"}, {"1.5"}}},
	{"float64", "1.50,.5\n5.,1e5\n1E-5,2\n", [][]string{{"1.5", "0.5"}, {"5.0", "100000.0"}, {"1e-05", "2.0"}}},
	{"float64 repr thresholds", "1e16\n1e15\n0.0001\n123456789012345678\n-0.0\n", [][]string{{"1e+16"}, {"1000000000000000.0"}, {"0.0001"}, {"1.2345678901234568e+17"}, {"-0.0"}}},
	{"float64 keeps 17 digits", "0.30000000000000004\n0.12345678901234567\n9007199254740993\n", [][]string{{"0.3"}, {"0.1234567890123456"}, {"9007199254740992.0"}}},
	{"float64 infinities", "inf,-Infinity\nINF,+inf\nNaN,1\n", [][]string{{"inf", "-inf"}, {"inf", "inf"}, {"nan", "1.0"}}},
	{"float64 range", "1e400\n1\n", [][]string{{"1e400"}, {"1"}}},
	{"float64 underflow", "1e-400\n1\n", [][]string{{"0.0"}, {"1.0"}}},
	{"not numbers", "0x10,1_000,1d5,.,-,1e, inf,e5\n1,2,3,4,5,6,7,8\n",
		[][]string{{"0x10", "1_000", "1d5", ".", "-", "1e", " inf", "e5"}, {"1", "2", "3", "4", "5", "6", "7", "8"}}},
	{"bool", "True,tRuE\nFALSE,false\n", [][]string{{"True", "True"}, {"False", "False"}}},
	{"bool with NA", "True\nNA\n", [][]string{{"True"}, {"nan"}}},
	{"bool with blanks or numbers", "TRUE ,True\nFALSE,1\n", [][]string{{"TRUE ", "True"}, {"FALSE", "1"}}},
	{"all NA", "NA,\nnan,None\n", [][]string{{"nan", "nan"}, {"nan", "nan"}}},
}

// TestPandasFields checks pandasFields on constructed CSV files against the
// expected cells and against pandas itself (scripts/reference/mmlu_pandas.py).
func TestPandasFields(t *testing.T) {
	texts := make([]string, len(pandasCases))
	for i, tc := range pandasCases {
		texts[i] = tc.in
	}
	ref := runPandas(t, texts)
	for i, tc := range pandasCases {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := readCSV([]byte(tc.in), "in.csv", 0)
			require.NoError(t, err)
			rows := make([][]string, len(recs))
			for j, r := range recs {
				rows[j] = r.Fields
			}
			got := pandasFields(rows)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, ref[i].Rows, got, "pandas dtypes %v", ref[i].Dtypes)
		})
	}
}

// TestPandasFieldsMatchesPandas converts random columns of numbers, NA
// strings, booleans and near misses with pandasFields and with pandas: every
// cell must match.
func TestPandasFieldsMatchesPandas(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	atoms := []string{"0", "1", "7", "9", "12", "-", "+", ".", "e", "E", "-3", " ", "NA", "None", "", "True", "false", "inf",
		"x", "9223372036854775807", "9223372036854775808", "18446744073709551616", "123456789012345678", "0.1", "e308", "e-320"}
	numeric := []string{"0", "1", "7", "12", "-3", "0.1", ".5", "e5", "E-3", "123456789012345678", "9223372036854775808", "NA", ""}
	field := func(set []string) string {
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			b.WriteString(set[rng.IntN(len(set))])
		}
		s := b.String()
		if strings.ContainsAny(s, ",\"\n\r") || strings.TrimSpace(s) == "" && s != "" || longExponent.MatchString(s) {
			return "1"
		}
		return s
	}
	texts := make([]string, 1000)
	for i := range texts {
		var b strings.Builder
		nrows := 1 + rng.IntN(4)
		sets := [3][]string{atoms, atoms, numeric}
		if rng.IntN(2) == 0 {
			sets[0] = numeric
		}
		for r := range nrows {
			for c := range 3 {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteString(field(sets[c]))
			}
			if r == 0 {
				b.WriteString(",a") // keeps every row non-blank
			} else {
				b.WriteString(",b")
			}
			b.WriteByte('\n')
		}
		texts[i] = b.String()
	}
	ref := runPandas(t, texts)
	dtypes := map[string]int{}
	for i, in := range texts {
		for _, d := range ref[i].Dtypes {
			dtypes[d]++
		}
		recs, err := readCSV([]byte(in), "rand.csv", 0)
		require.NoError(t, err, "input %q", in)
		rows := make([][]string, len(recs))
		for j, r := range recs {
			rows[j] = r.Fields
		}
		require.Equal(t, ref[i].Rows, pandasFields(rows), "input %q, pandas dtypes %v", in, ref[i].Dtypes)
	}
	t.Logf("pandas column dtypes of the random files: %v", dtypes)
	for _, d := range []string{"int64", "uint64", "float64", "bool", "object"} {
		assert.Positive(t, dtypes[d], "no random column of dtype %s", d)
	}
}

// longExponent matches an exponent of ten or more digits, which pandas reads
// with C int overflow (undefined behaviour; pandas 2.3.3 crashes on some).
var longExponent = regexp.MustCompile(`[eE][-+]?[0-9]{10}`)

type pandasRef struct {
	Rows   [][]string `json:"rows"`
	Dtypes []string   `json:"dtypes"`
}

// runPandas reads each CSV text with scripts/reference/mmlu_pandas.py.
func runPandas(t *testing.T, texts []string) []pandasRef {
	t.Helper()
	payload, err := json.Marshal(texts)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "texts.json")
	require.NoError(t, os.WriteFile(path, payload, 0o644))
	var ref []pandasRef
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "mmlu_pandas.py", path)), &ref))
	require.Len(t, ref, len(texts))
	return ref
}

func TestPythonFloatRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{2, "2.0"}, {0.1, "0.1"}, {1e-5, "1e-05"}, {1e-4, "0.0001"}, {1e16, "1e+16"}, {1.5e16, "1.5e+16"},
		{9999999999999998, "9999999999999998.0"}, {123.456, "123.456"}, {-2.5e-7, "-2.5e-07"}, {1e300, "1e+300"},
		{5e-324, "5e-324"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {math.Copysign(0, -1), "-0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, pythonFloatRepr(tt.in))
		})
	}
}
