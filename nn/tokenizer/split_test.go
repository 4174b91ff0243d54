package tokenizer

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitSpec is one Split pre-tokenizer of the Split parity test, as tok_split.py reads it.
type splitSpec struct {
	Regex    *string `json:"regex,omitempty"`
	String   *string `json:"string,omitempty"`
	Behavior string  `json:"behavior"`
	Invert   bool    `json:"invert"`
}

func splitSpecs() []splitSpec {
	re := func(p, behavior string, invert bool) splitSpec {
		return splitSpec{Regex: &p, Behavior: behavior, Invert: invert}
	}
	specs := []splitSpec{
		re(llama3SplitPattern, "Isolated", false),
		re(qwen2SplitPattern, "Isolated", false),
		re(gpt4oSplitPattern, "Removed", true),
		re(deepseek3SplitPattern, "Isolated", false),
		re(`\p{N}{1,3}`, "Isolated", false),
		re(`[一-龥぀-ゟ゠-ヿ]+`, "Isolated", false),
		re(GPT2Pattern, "Isolated", false),
		re(`\s+(?!\S)|\s+`, "Isolated", false),
		re(`a*|\s+(?!\S)|\s+`, "Isolated", false),
		re(`\p{L}+\s+\p{L}|\s+(?!\S)|\s+|.`, "Isolated", false),
		re(`(?<=a)b|c(?=d)`, "Isolated", false),
		re(`\w+|\d|\s`, "Isolated", false),
		re(`^\S+|x$`, "Isolated", false),
		re(`\bfoo\b`, "Isolated", false),
		re(`a*`, "Isolated", false),
		re(`(?i)[a-c]+|(?i:[r-t]|[^s\s])x|(?-i:s)s|(?<n>S)`, "Isolated", false),
		re(`(?i:s|K)|\p{Ps}`, "Removed", false),
		re(`[a-c]{,2}`, "Isolated", false),
		// Syntax that Go's regexp or regexp2 spell differently, or only regexp2 has.
		re(`.|(?x) a b`, "Isolated", false),
		re(`\A\w|\w\z|(?m)a.+`, "Isolated", false),
		re(`\x41|\u00e9|\p{^L}+|\P{N}\p{Han}|\p{Greek}+`, "Isolated", false),
		re(`(?<x>a)\k<x>|(?>a+)b|\Gs|\S\Z`, "Isolated", false),
		re(`(b)\1|[\b]`, "Isolated", false),
		re(`\b\w|\B.|[\s\S]a|(?-i)a|(?i)ǅ`, "Isolated", false),
		re(`[[:alpha:]]+|[[:punct:][:digit:]]+|[^[:space:]]`, "Isolated", false),
		// regexp2NegatedCategories, with a lookahead to be run on regexp2 by default too.
		re(`\P{L}+|\P{N}\p{Han}|\S(?=x)`, "Isolated", false),
		re(`\S\s|\W\w|\D\d|[^\S\n]+|[^\W\d]+|\p{^N}(?!\s)`, "Isolated", false),
		re(`[^\s\p{L}]+|[^\p{N}]\p{Han}|\p{L}|[^\p{P}](?=\d)`, "Isolated", false),
		re(`\u00e9+|\x{1F600}`, "Isolated", false),
	}
	for _, b := range []string{"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"} {
		for _, inv := range []bool{false, true} {
			specs = append(specs, re(`\p{N}+|[,.]`, b, inv), re(`a*`, b, inv), re(`\s`, b, inv))
			for _, lit := range []string{" ", "ab", ""} {
				specs = append(specs, splitSpec{String: &lit, Behavior: b, Invert: inv})
			}
		}
	}
	return specs
}

// splitProbes are hand-written inputs of the Split and random-text parity tests.
var splitProbes = []string{
	"", " ", "a", "foo bar", "I'm   sure\n\n  12345 ١٢٣ 😀 x", "'ſ x'S 'K 'LL it's", "a\u000bb \u000b c",
	"\u00a0\u00a0x", "x\u2028y\u2029z\u0085w", "a  \n\n  b \r\n\r\n c\t\t", "baabxaa", "1,234.5 and 6", "  ",
	"foo foobar barfoo foo", "ſx sx Sx ſſ ss ſS aaab abc sſ KkK xs'ſ (s) [ſ] {S}", "xx\nx\nab", "こんにちは世界 中文句子 한국어", "éé😀ab cd", "ABC abc ÀBÇ",
	"rock'n'roll DON'T we'Ve", "line1\r\n  line2  \n", "<|begin_of_text|>hi<|eot_id|>", "∑∫√ ≈≠ ⅓½ x²",
	"tab\tsep\tend\t", "trailing   ", "   leading", "mixed \t\n\u3000 ws", "😀😀 🤗\u200d🚀",
}

// randomTexts makes n texts from fragments chosen to exercise the patterns: letters of several scripts and
// cases, digit runs, every kind of whitespace, apostrophes and contractions, punctuation, emoji, combining
// marks and special tokens.
func randomTexts(n int, seed uint64) []string {
	frags := []string{
		"a", "b", "Z", "hello", "World", "HTTP", "é", "e\u0301", "ß", "ſ", "K", "ǅ", "İ", "ı", "Ω",
		"日本", "語", "中文", "한국어", "Русский", "العربية", "हिन्दी", "ـ",
		"0", "7", "12", "123", "4567", "١٢٣", "½", "²", "Ⅻ",
		" ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\v", "\f", "\u00a0", "\u3000", "\u2028", "\u0085", "\u200b",
		"'", "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'d", "'D", "'x", "\"", "`",
		".", ",", "!", "?", "...", "-", "--", "/", "//", "\\", "(", ")", "[", "]", "{", "}", "#", "@", "$", "%", "&", "*",
		"😀", "🤗", "👍🏽", "👨\u200d👩", "❤️", "\u0301", "\u20dd",
		"<|begin_of_text|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "<|", "|>",
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	texts := make([]string, n)
	for i := range texts {
		var sb strings.Builder
		for k := r.IntN(24) + 1; k > 0; k-- {
			sb.WriteString(frags[r.IntN(len(frags))])
		}
		texts[i] = sb.String()
	}
	return texts
}

// splitRequest is the request of tok_split.py.
type splitRequest struct {
	Splits      []splitSpec       `json:"splits"`
	SplitTexts  []string          `json:"split_texts"`
	ClassSplits []splitSpec       `json:"class_splits"`
	ClassText   string            `json:"class_text"`
	Tokenizers  map[string]string `json:"tokenizers"`
	Texts       []string          `json:"texts"`
}

type splitResult struct {
	Splits      [][][]string       `json:"splits"`
	ClassSplits [][]string         `json:"class_splits"`
	Errors      []*string          `json:"errors"`
	Encode      map[string][][]int `json:"encode"`
	EncodeRaw   map[string][][]int `json:"encode_raw"`
}

// modernTokenizers are the tokenizer.json files of the random-text parity test.
var modernTokenizers = []string{"llama3", "qwen3", "deepseek-v3", "gpt4o"}

var (
	splitRefOnce sync.Once
	splitRef     *splitResult
	splitRefErr  string
)

func splitTexts() []string { return append(append([]string{}, splitProbes...), randomTexts(300, 1)...) }
func encodeTexts() []string {
	return append(append([]string{}, splitProbes...), randomTexts(300, 2)...)
}
func runSplitReference(t *testing.T) *splitResult {
	t.Helper()
	py := venvPython(t)
	toks := map[string]string{}
	for _, name := range modernTokenizers {
		toks[name] = assetPath(t, name+"/tokenizer.json")
	}
	script := filepath.Join(reftest.Root(t), "scripts", "reference", "tok_split.py")
	splitRefOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tok-split")
		if err != nil {
			splitRefErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		req := splitRequest{Splits: splitSpecs(), SplitTexts: splitTexts(), ClassSplits: classSpecs(),
			ClassText: classText(), Tokenizers: toks, Texts: encodeTexts()}
		data, err := json.Marshal(req)
		if err != nil {
			splitRefErr = err.Error()
			return
		}
		in, out := filepath.Join(dir, "req.json"), filepath.Join(dir, "res.json")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			splitRefErr = err.Error()
			return
		}
		if msg, err := exec.Command(py, script, in, out).CombinedOutput(); err != nil {
			splitRefErr = "tok_split.py failed: " + err.Error() + "\n" + string(msg)
			return
		}
		if data, err = os.ReadFile(out); err != nil {
			splitRefErr = err.Error()
			return
		}
		if err := json.Unmarshal(data, &splitRef); err != nil {
			splitRefErr = "tok_split.py result: " + err.Error()
		}
	})
	if splitRefErr != "" {
		t.Fatal(splitRefErr)
	}
	return splitRef
}

// classPatterns are the character classes whose Oniguruma meaning compileOnig spells out.
var classPatterns = []string{`\w`, `\W`, `\s`, `\S`, `\d`, `\D`, `[\w]`, `[\s]`, `[\d\D]`, `[\S]`, `[\W]`,
	`[\D]`, `[^\S\n]`, `[^\W\d]`, `[\P{L}\P{N}]`, `[\P{L}\p{Ll}]`, `[\P{Han}\s]`, `\P{Lu}`, `\p{^L}`,
	`[[:alpha:]]`, `[[:digit:]]`, `[[:alnum:]]`, `[[:upper:]]`, `[[:lower:]]`, `[[:space:]]`, `[[:punct:]]`,
	`[[:xdigit:]]`, `[[:cntrl:]]`, `[[:blank:]]`, `[[:word:]]`, `[^[:alpha:]]`, `[^\w[:punct:]\s]`}

func classSpecs() []splitSpec {
	var specs []splitSpec
	for i := range classPatterns {
		specs = append(specs, splitSpec{Regex: &classPatterns[i], Behavior: "Removed"})
	}
	return specs
}

// classText holds every code point of the planes 0-3 and 14 that Go's Unicode tables assign (so not the
// ones that Unicode versions after Go's added), but no surrogates and no private use: split by a class with
// the Removed behavior, it leaves the runs of code points outside the class.
func classText() string {
	var sb strings.Builder
	for r := rune(1); r < 0xF0000; r++ {
		if r >= 0x40000 && r < 0xE0000 || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S,
			unicode.Z, unicode.Cc, unicode.Cf) {
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// TestOnigClassParity compares the character classes of both regex engines with Oniguruma's on every
// assigned code point.
func TestOnigClassParity(t *testing.T) {
	ref := runSplitReference(t)
	text := classText()
	require.Len(t, ref.ClassSplits, len(classPatterns))
	for _, engine := range []string{"", "regexp2"} {
		withEngine(t, engine, func(t *testing.T) {
			for i, p := range classPatterns {
				re, err := compileOnig(p)
				require.NoError(t, err, p)
				got := preSplit{re: re, behavior: splitRemoved}.split(text, true, []string{})
				want := ref.ClassSplits[i]
				if assert.ObjectsAreEqual(want, got) {
					continue
				}
				// The code points on which they disagree: those left by one side only.
				left := func(pieces []string) map[rune]bool {
					m := map[rune]bool{}
					for _, piece := range pieces {
						for _, r := range piece {
							m[r] = true
						}
					}
					return m
				}
				w, g := left(want), left(got)
				var diff []string
				for _, r := range text {
					if w[r] != g[r] {
						diff = append(diff, fmt.Sprintf("%U(in class: %v)", r, !w[r]))
					}
				}
				t.Errorf("%s: %d code points differ from Oniguruma: %v", p, len(diff), diff[:min(len(diff), 40)])
			}
		})
	}
}

// splitPreTokenizer builds the Go Split of a spec through the tokenizer.json parser.
func splitPreTokenizer(t *testing.T, s splitSpec) (preTokenizer, error) {
	pat := map[string]any{}
	if s.Regex != nil {
		pat["Regex"] = *s.Regex
	} else {
		pat["String"] = *s.String
	}
	raw, err := json.Marshal(map[string]any{"type": "Split", "pattern": pat, "behavior": s.Behavior, "invert": s.Invert})
	require.NoError(t, err)
	return parsePreTokenizer(raw)
}

// withEngine runs f with the regex engine forced ("" is the default choice).
func withEngine(t *testing.T, engine string, f func(t *testing.T)) {
	t.Run("engine="+map[string]string{"": "default", "regexp2": "regexp2"}[engine], func(t *testing.T) {
		old := regexpForce
		regexpForce = engine
		defer func() { regexpForce = old }()
		f(t)
	})
}

// TestSplitParity compares the Split pre-tokenizer, for every behavior, invert and both regex engines,
// with tokenizers' own on hand-written and random texts.
func TestSplitParity(t *testing.T) {
	ref := runSplitReference(t)
	specs, texts := splitSpecs(), splitTexts()
	require.Len(t, ref.Splits, len(specs))
	for _, engine := range []string{"", "regexp2"} {
		withEngine(t, engine, func(t *testing.T) {
			for i, s := range specs {
				name := s.Behavior
				if s.Invert {
					name += "/invert"
				}
				if s.Regex != nil {
					name += " " + *s.Regex
				} else {
					name += " string " + *s.String
				}
				pre, err := splitPreTokenizer(t, s)
				if ref.Errors[i] != nil {
					assert.Error(t, err, "%s: tokenizers refuses it: %s", name, *ref.Errors[i])
					continue
				}
				require.NoError(t, err, name)
				m := mismatches{t: t, what: name}
				for k, text := range texts {
					got := pre.split(text, true, nil)
					if got == nil {
						got = []string{}
					}
					m.check(ref.Splits[i][k], got, text)
				}
				m.done(len(texts))
			}
		})
	}
}

// TestModernTokenizersRandomText compares ids with tokenizers.Tokenizer.from_file on random texts, for the
// tokenizer.json files alone (no tokenizer_config.json) and both regex engines.
func TestModernTokenizersRandomText(t *testing.T) {
	ref := runSplitReference(t)
	texts := encodeTexts()
	for _, engine := range []string{"", "regexp2"} {
		withEngine(t, engine, func(t *testing.T) {
			for _, name := range modernTokenizers {
				t.Run(name, func(t *testing.T) {
					p := assetPath(t, name+"/tokenizer.json")
					data, err := os.ReadFile(p)
					require.NoError(t, err)
					tok, err := ParseTokenizerJSON(p, data)
					require.NoError(t, err)
					withSpecial := mismatches{t: t, what: "Encode(text, true)"}
					raw := mismatches{t: t, what: "Encode(text, false)"}
					for i, text := range texts {
						withSpecial.check(ref.Encode[name][i], nonNil(tok.Encode(text, true)), text)
						raw.check(ref.EncodeRaw[name][i], nonNil(tok.Encode(text, false)), text)
					}
					withSpecial.done(len(texts))
					raw.done(len(texts))
				})
			}
		})
	}
}

func TestOnigEngineChoice(t *testing.T) {
	for _, c := range []struct {
		pattern, engine string
	}{
		{`\p{N}{1,3}`, "go"},
		{`[^\s\p{L}]+|\d`, "go"},
		{llama3SplitPattern, "go+ws"},
		{qwen2SplitPattern, "go+ws"},
		{gpt4oSplitPattern, "go+ws"},
		{deepseek3SplitPattern, "go+ws"},
		{`^\s+(?!\S)|\s+`, "regexp2"},
		{`\s+(?!\S)|\s+|^x`, "regexp2"},
		{`(?<=a)b`, "regexp2"},
		{`\bfoo`, "regexp2"},
		{`[^\S\n]+`, "go"},
		// Read differently by Oniguruma and both Go engines.
		{`[a-z&&[^aeiou]]`, "error"},
		{`[a[b]]`, "error"},
		{`[[:graph:]]`, "error"},
		{`[[:^alpha:]]`, "error"},
		{`(?i)[[:upper:]]`, "error"},
		{`a++`, "error"},
		{`\h`, "error"},
	} {
		re, err := compileOnig(c.pattern)
		if c.engine == "error" {
			assert.Error(t, err, c.pattern)
			continue
		}
		require.NoError(t, err, c.pattern)
		got := map[string]string{"onigGoRegex": "go", "onigWSRegex": "go+ws", "onigRegexp2": "regexp2"}[typeName(re)]
		assert.Equal(t, c.engine, got, c.pattern)
	}
}

func typeName(re onigRegex) string {
	switch re.(type) {
	case onigGoRegex:
		return "onigGoRegex"
	case onigWSRegex:
		return "onigWSRegex"
	case onigRegexp2:
		return "onigRegexp2"
	}
	return "?"
}

// TestLoadModernDirs loads the fetched directories through Load, with their tokenizer_config.json.
func TestLoadModernDirs(t *testing.T) {
	llama3, err := Load(assetPath(t, "llama3"))
	require.NoError(t, err)
	assert.Equal(t, []int{128000, 9906, 1917}, llama3.Encode("Hello world", true))
	assert.Equal(t, []int{128000, 128006, 882, 128007, 271, 13347, 128009}, llama3.Encode(
		"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", false))
	assert.Equal(t, []int{4513, 10961, 22}, llama3.Encode("1234567", false), "123 456 7: digits in groups of three")
	assert.Equal(t, 128000, llama3.BOS())
	assert.Equal(t, 128009, llama3.EOS(), "Llama-3.1's tokenizer_config.json: <|eot_id|>")

	qwen, err := Load(assetPath(t, "qwen3"))
	require.NoError(t, err)
	assert.Equal(t, []int{16, 17, 18}, qwen.Encode("123", true), "one digit per token, no bos")
	assert.Equal(t, qwen.Encode("é", false), qwen.Encode("e\u0301", false), "NFC")
	assert.Equal(t, NoToken, qwen.BOS())
	assert.Equal(t, 151645, qwen.EOS())
	assert.Equal(t, 151643, qwen.PAD())

	// DeepSeek-V3's tokenizer_config.json names LlamaTokenizerFast with add_bos_token: as transformers 4,
	// LoadDir adds <｜begin▁of▁sentence｜> (its tokenizer.json alone adds nothing).
	ds, err := Load(assetPath(t, "deepseek-v3"))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 19923, 2058}, ds.Encode("Hello world", true))
}

// FuzzOnigEngines checks that Go's regexp (with the lookahead applied by hand) and regexp2 split texts
// alike with the patterns of the modern tokenizers (both are compared with tokenizers by TestSplitParity).
// go test runs the seeds; go test -fuzz FuzzOnigEngines ./nn/tokenizer explores further.
func FuzzOnigEngines(f *testing.F) {
	patterns := []string{llama3SplitPattern, qwen2SplitPattern, gpt4oSplitPattern, deepseek3SplitPattern, GPT2Pattern,
		`\S\s|\W\w|[^\S\n]+|\P{L}+|\P{N}\p{Han}|\b\w|(?i:'s|k)`}
	var pairs [][2]onigRegex
	for _, p := range patterns {
		def, err := compileOnig(p)
		require.NoError(f, err)
		regexpForce = "regexp2"
		re2, err := compileOnig(p)
		regexpForce = ""
		require.NoError(f, err)
		pairs = append(pairs, [2]onigRegex{def, re2})
	}
	for _, s := range splitProbes {
		f.Add(s)
	}
	for _, s := range randomTexts(20, 3) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for i, p := range pairs {
			a := preSplit{re: p[0], behavior: splitIsolated}.split(text, true, nil)
			b := preSplit{re: p[1], behavior: splitIsolated}.split(text, true, nil)
			if strings.Join(a, "") != text {
				t.Fatalf("pattern %d: the Isolated pieces %q do not cover %q", i, a, text)
			}
			if !utf8.ValidString(text) {
				continue // the engines see invalid bytes as U+FFFD differently; tokenizers never sees them
			}
			require.Equal(t, b, a, "pattern %d on %q", i, text)
		}
	})
}
