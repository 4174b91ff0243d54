package mmlu

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/loraplus-go/loraplus/llama/internal/dataerr"
)

// crSentinel stands in for a carriage return inside a quoted field while
// encoding/csv parses the input: csv drops the \r of every \r\n pair, even
// inside quotes, while Python's csv module and pandas keep it. 0xFF never
// occurs in valid UTF-8, and input is checked to be valid UTF-8 first.
const crSentinel = 0xFF

// csvRecord is one parsed CSV record and the 1-based line where it starts.
type csvRecord struct {
	Fields []string
	Line   int
}

// readCSV parses comma-separated records from raw the way Python's csv
// module does with its default dialect: quoted fields may hold commas,
// newlines, doubled quotes and \r\n (kept verbatim), and a quote inside an
// unquoted field is an ordinary character. Input on which parsers disagree
// is rejected with a *LineError instead: invalid UTF-8, a carriage return
// outside quotes that does not end a line, a closing quote followed by
// anything but a comma or line end, and a quoted field left open at the end.
// A leading UTF-8 byte order mark is skipped. When fields > 0 every record
// must have exactly that many fields.
func readCSV(raw []byte, name string, fields int) ([]csvRecord, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		return nil, dataerr.New(name, invalidUTF8Line(raw), "", "invalid UTF-8")
	}
	buf := append([]byte(nil), raw...)
	if err := protectQuotedCR(buf, name); err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(buf))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	var out []csvRecord
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, dataerr.New(name, pe.Line, "", "column %d: %v", pe.Column, pe.Err)
			}
			return nil, dataerr.New(name, 0, "", "%v", err)
		}
		line, _ := cr.FieldPos(0)
		if fields > 0 && len(rec) != fields {
			return nil, dataerr.New(name, line, "", "got %d fields, want %d", len(rec), fields)
		}
		for i := range rec {
			if strings.IndexByte(rec[i], crSentinel) >= 0 {
				rec[i] = strings.ReplaceAll(rec[i], "\xff", "\r")
			}
		}
		out = append(out, csvRecord{Fields: rec, Line: line})
	}
}

// protectQuotedCR walks b with the states of a CSV tokenizer and replaces,
// in place, every \r inside a quoted field with crSentinel. It rejects the
// constructs on which encoding/csv (with LazyQuotes) and Python's csv module
// part ways; see readCSV.
func protectQuotedCR(b []byte, name string) error {
	const (
		fieldStart = iota
		inField
		inQuoted
		quoteInQuoted
	)
	state, line, quoteLine := fieldStart, 1, 0
	for i, c := range b {
		lineEnd := c == '\n' || (c == '\r' && (i+1 == len(b) || b[i+1] == '\n'))
		switch state {
		case fieldStart, inField:
			switch {
			case c == '"' && state == fieldStart:
				state, quoteLine = inQuoted, line
			case c == '\r' && !lineEnd:
				return dataerr.New(name, line, "", "carriage return not followed by a newline")
			case c == ',' || c == '\n':
				state = fieldStart
			case c != '\r':
				state = inField
			}
		case inQuoted:
			switch c {
			case '"':
				state = quoteInQuoted
			case '\r':
				b[i] = crSentinel
			}
		case quoteInQuoted:
			switch {
			case c == '"':
				state = inQuoted
			case c == ',' || c == '\n':
				state = fieldStart
			case lineEnd:
				state = inField
			default:
				r, _ := utf8.DecodeRune(b[i:])
				return dataerr.New(name, line, "", "closing quote of a quoted field followed by %q, want a comma or line end", r)
			}
		}
		if c == '\n' {
			line++
		}
	}
	if state == inQuoted {
		return dataerr.New(name, quoteLine, "", "quoted field not closed before the end of the input")
	}
	return nil
}

// invalidUTF8Line returns the 1-based line of the first invalid UTF-8 byte in b.
func invalidUTF8Line(b []byte) int {
	line := 1
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		b = b[size:]
	}
	return line
}

// pandasChunkRows is the number of rows of a six-column file that pandas'
// C parser (low_memory=True, the default) tokenizes and types at once: the
// largest power of two below 2**20/6. Past it, pandas infers each column's
// type per chunk and merges the chunks, which [pandasFields] does not model.
const pandasChunkRows = 131072

// pandasNA are the strings pandas.read_csv turns into NaN by default
// (pandas._libs.parsers.STR_NA_VALUES): a field equal to one of them,
// quoted or not and with no surrounding blanks, is missing.
var pandasNA = map[string]bool{
	"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true, "-1.#QNAN": true, "-NaN": true,
	"-nan": true, "1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true, "NA": true, "NULL": true,
	"NaN": true, "None": true, "n/a": true, "nan": true, "null": true,
}

// pandasFields returns the fields of rows (all of the same width) as the
// original MMLU evaluator sees them: hendrycks/test's evaluate.py, which
// open-instruct's eval/mmlu/run_eval.py copies, reads every
// <subject>_<split>.csv with pandas.read_csv(path, header=None) and writes
// each cell into the prompt with "{}".format(df.iloc[i, j]). pandas (2.3, C
// parser, default options) types every column of the file on its own, trying
// in order:
//
//  1. int64: every field is a missing value (see below) or an integer:
//     optional blanks (space, \t, \n, \v, \f, \r), an optional sign, ASCII
//     digits, optional blanks. Printed in decimal ("03", "+3", " 3" print
//     "3"). With a missing value in the column the integers become float64
//     (rule 2's printing, missing values "nan"). The first field that does
//     not parse decides: if it overflows int64, the column is tried as
//     uint64 instead (missing values and fields starting with "-" noted, not
//     parsed): a field that overflows uint64 makes the column a string
//     column; a value above the int64 range together with a missing value or
//     a "-" field makes it a string column in which missing values stay
//     verbatim; a "-" field alone makes it a string column; any other bad
//     field moves on to float64.
//  2. float64: every field is missing or a number read by pandas'
//     precise_xstrtod (blanks, sign, digits, '.', digits, 'e' or 'E' and a
//     signed exponent, blanks; the first 17 significant digits kept, the
//     value accumulated and scaled in float64 as that routine does, so it is
//     not always the nearest float64), or "inf", "+inf", "infinity",
//     "+infinity", "-inf", "-infinity" in any case. A number out of float64
//     range fails. Printed as Python's repr of a float ("2.0", "0.1",
//     "1e-05", "1e+16", "inf"); missing values print "nan".
//  3. bool: every field is missing or "true"/"false" in any case. Printed
//     "True" or "False"; missing values "nan".
//  4. string: fields verbatim, missing values "nan".
//
// A missing value is a field equal to one of pandas' default NA strings
// ([pandasNA]: "", "NA", "N/A", "NULL", "NaN", "None", "nan", "null", ...).
// So a choice "None" becomes "nan", as in the original evaluator's prompts.
// Files of more than [pandasChunkRows] rows are typed per chunk by pandas and
// must be rejected by the caller.
func pandasFields(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
	}
	if len(rows) == 0 {
		return out
	}
	col := make([]string, len(rows))
	for j := range rows[0] {
		for i, r := range rows {
			col[i] = r[j]
		}
		for i, s := range pandasColumn(col) {
			out[i][j] = s
		}
	}
	return out
}

// pandasColumn applies [pandasFields]' rules to one column.
func pandasColumn(col []string) []string {
	out := make([]string, len(col))
	switch ints, hasNA, err := pandasInt64s(col); {
	case err == nil && !hasNA:
		for i, v := range ints {
			out[i] = strconv.FormatInt(v, 10)
		}
		return out
	case err == nil:
		for i, s := range col {
			if pandasNA[s] {
				out[i] = "nan"
			} else {
				out[i] = pythonFloatRepr(float64(ints[i]))
			}
		}
		return out
	case errors.Is(err, errIntOverflow):
		switch kind := pandasUint64Kind(col); kind {
		case "uint64":
			for i, s := range col {
				v, _, _ := parseUint64(s)
				out[i] = strconv.FormatUint(v, 10)
			}
			return out
		case "string":
			return pandasStrings(col, true)
		case "verbatim":
			return pandasStrings(col, false)
		}
	}
	if floats, ok := pandasFloat64s(col); ok {
		for i, s := range col {
			if pandasNA[s] {
				out[i] = "nan"
			} else {
				out[i] = pythonFloatRepr(floats[i])
			}
		}
		return out
	}
	isBool := true
	for _, s := range col {
		if !pandasNA[s] && !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			isBool = false
			break
		}
	}
	if isBool {
		for i, s := range col {
			switch {
			case pandasNA[s]:
				out[i] = "nan"
			case strings.EqualFold(s, "true"):
				out[i] = "True"
			default:
				out[i] = "False"
			}
		}
		return out
	}
	return pandasStrings(col, true)
}

// pandasStrings is a string column: fields verbatim, missing values "nan"
// when na is set.
func pandasStrings(col []string, na bool) []string {
	out := make([]string, len(col))
	for i, s := range col {
		if na && pandasNA[s] {
			out[i] = "nan"
		} else {
			out[i] = s
		}
	}
	return out
}

var (
	errIntOverflow = errors.New("integer overflow")
	errIntSyntax   = errors.New("not an integer")
)

// isCSpace is C's isspace in the "C" locale, as pandas' isspace_ascii.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// pandasInt64s parses a column as pandas' int64 pass: it stops at the first
// field that is neither missing nor an int64 and returns that field's error.
func pandasInt64s(col []string) (ints []int64, hasNA bool, err error) {
	ints = make([]int64, len(col))
	for i, s := range col {
		if pandasNA[s] {
			hasNA = true
			continue
		}
		if ints[i], err = parseInt64(s); err != nil {
			return nil, false, err
		}
	}
	return ints, hasNA, nil
}

// parseInt64 is pandas' str_to_int64 (no thousands separator): blanks, an
// optional sign, at least one digit, blanks. Overflow is reported as soon as
// the digits read so far leave the int64 range, before later characters are
// looked at.
func parseInt64(s string) (int64, error) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := i < len(s) && s[i] == '-'
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i == len(s) || !isDigit(s[i]) {
		return 0, errIntSyntax
	}
	var v int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := int64(s[i] - '0')
		if neg {
			if v < (math.MinInt64+d)/10 {
				return 0, errIntOverflow
			}
			v = v*10 - d
		} else {
			if v > (math.MaxInt64-d)/10 {
				return 0, errIntOverflow
			}
			v = v*10 + d
		}
	}
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, errIntSyntax
	}
	return v, nil
}

// parseUint64 is pandas' str_to_uint64: like parseInt64 for non-negative
// numbers up to 2**64-1; a field whose first non-blank is '-' is not parsed
// and reported as signed.
func parseUint64(s string) (v uint64, signed bool, err error) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '-' {
		return 0, true, nil
	}
	if i < len(s) && s[i] == '+' {
		i++
	}
	if i == len(s) || !isDigit(s[i]) {
		return 0, false, errIntSyntax
	}
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false, errIntOverflow
		}
		v = v*10 + d
	}
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, false, errIntSyntax
	}
	return v, false, nil
}

// pandasUint64Kind is pandas' uint64 pass, tried when the int64 pass
// overflowed: "uint64" (a uint64 column), "string" (a string column),
// "verbatim" (a string column without NA conversion) or "" (try float64).
func pandasUint64Kind(col []string) string {
	var seenNull, seenSigned, seenUint bool
	for _, s := range col {
		if pandasNA[s] {
			seenNull = true
			continue
		}
		v, signed, err := parseUint64(s)
		switch {
		case errors.Is(err, errIntOverflow):
			return "string"
		case err != nil:
			return ""
		case signed:
			seenSigned = true
		case v > math.MaxInt64:
			seenUint = true
		}
	}
	switch {
	case seenUint && (seenSigned || seenNull):
		return "verbatim"
	case seenSigned:
		return "string"
	}
	return "uint64"
}

// pandasFloat64s parses a column as pandas' float64 pass; ok is false when a
// field is neither missing nor a number.
func pandasFloat64s(col []string) (floats []float64, ok bool) {
	floats = make([]float64, len(col))
	for i, s := range col {
		if pandasNA[s] {
			floats[i] = math.NaN()
			continue
		}
		v, ok := preciseXstrtod(s)
		if !ok {
			switch strings.ToLower(s) {
			case "inf", "+inf", "infinity", "+infinity":
				v = math.Inf(1)
			case "-inf", "-infinity":
				v = math.Inf(-1)
			default:
				return nil, false
			}
		}
		floats[i] = v
	}
	return floats, true
}

// pow10 holds 1e0 ... 1e308 correctly rounded, as the C literals of pandas'
// precise_xstrtod table.
var pow10 = func() [309]float64 {
	var t [309]float64
	for i := range t {
		t[i], _ = strconv.ParseFloat("1e"+strconv.Itoa(i), 64)
	}
	return t
}()

// preciseXstrtod is pandas 2.3's precise_xstrtod (decimal '.', exponent
// 'e'/'E', no thousands separator, trailing blanks skipped) followed by its
// caller's check that the whole field was consumed and the result is finite.
// At most 17 significant digits are accumulated in float64 (number*10 +
// digit); further integer digits raise the exponent and further decimals are
// dropped; the value is then multiplied or divided by powers of ten from a
// table. The exponent is read with C int arithmetic, at most 17 digits; an
// exponent outside the C int range overflows there (undefined behaviour:
// pandas 2.3.3 reads "1e4294967296" as 1.0 and crashes on "1e2147483648"),
// emulated here with int32 wrap-around.
func preciseXstrtod(s string) (float64, bool) {
	const maxDigits = 17
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var number float64
	var exponent, numDigits, numDecimals int32
	for ; i < len(s) && isDigit(s[i]); i++ {
		if numDigits < maxDigits {
			number = number*10 + float64(s[i]-'0')
			numDigits++
		} else {
			exponent++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; numDigits < maxDigits && i < len(s) && isDigit(s[i]); i++ {
			number = number*10 + float64(s[i]-'0')
			numDigits++
			numDecimals++
		}
		if numDigits >= maxDigits {
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
		exponent -= numDecimals
	}
	if numDigits == 0 {
		return 0, false
	}
	if neg {
		number = -number
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		eneg := false
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			eneg = s[j] == '-'
			j++
		}
		var n, nd int32
		for ; nd < maxDigits && j < len(s) && isDigit(s[j]); j++ {
			n = n*10 + int32(s[j]-'0')
			nd++
		}
		if eneg {
			exponent -= n
		} else {
			exponent += n
		}
		if nd > 0 {
			i = j
		}
	}
	switch {
	case exponent > 308:
		return 0, false
	case exponent > 0:
		number *= pow10[exponent]
	case exponent < -308:
		if exponent < -616 {
			number = 0
		} else {
			number /= pow10[-308-exponent]
			number /= pow10[308]
		}
	default:
		number /= pow10[-exponent]
	}
	if math.IsInf(number, 0) {
		return 0, false
	}
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	return number, i == len(s)
}

// pythonFloatRepr formats f as Python's repr (and so str and "{}".format)
// of a float, which numpy's float64 shares: the shortest digits that read
// back as f, in positional notation with at least one decimal ("2.0",
// "0.0001") when the decimal exponent is in [-5, 16), else in scientific
// notation with a signed exponent of at least two digits ("1e-05",
// "1.5e+16"); "nan", "inf", "-inf".
func pythonFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // e.g. "-1.2345e+06"
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	var b strings.Builder
	b.WriteString(sign)
	if exp < 0 {
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -exp-1))
		b.WriteString(digits)
		return b.String()
	}
	if len(digits) <= exp+1 {
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", exp+1-len(digits)))
		b.WriteString(".0")
		return b.String()
	}
	b.WriteString(digits[:exp+1])
	b.WriteString(".")
	b.WriteString(digits[exp+1:])
	return b.String()
}
