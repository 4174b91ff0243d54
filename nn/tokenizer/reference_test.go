package tokenizer

import (
	"encoding/json"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// parityMaxLength is the truncation length of the batch parity checks.
const parityMaxLength = 16

// longText is a multi-paragraph input far longer than DefaultMaxLength tokens.
var longText = strings.Repeat("LoRA+ sets the learning rate of the B matrices higher than that of A; "+
	"with η_B = λ·η_A (λ ≈ 16) it trains 2× faster.\n\n  Results: 91.3% on SST-2, 87.1% on MNLI — "+
	"see Table 3 (ID 4711) at https://example.org/x?y=1 ✓ 😀 日本語 ", 12)

// parityTexts are the single-sequence inputs of every parity check.
var parityTexts = []string{
	"Hello world",
	"The quick brown fox jumps over the lazy dog.",
	"Hello  world\n\nNew paragraph.",
	"  leading spaces and trailing spaces   ",
	" single leading space",
	"tabs\tand\t\ttabs\t",
	"mixed \t\n whitespace \n\n\n  end",
	"a      b",
	"    ",
	" ",
	"\n",
	"",
	"I'm sure they'll say we've done what you'd do; it's John's book. DON'T SHOUT, I'M HERE",
	"'s 've 're 'll 'd 'm 't ''s ''' x's",
	"Numbers: 3.14159, 1,000,000 and 2024-06-01 12:30; 42nd 7th ١٢٣ ½ ⅓ Ⅻ ²",
	"Café naïve résumé façade Ångström — déjà vu",
	"Combining: e\u0301 n\u0303 and precomposed é ñ",
	"日本語のテキストと中文句子。한국어 문장도.",
	"Ὀδυσσεύς Ελληνικά Русский текст العربية עברית हिन्दी",
	"Emoji: 🤗🚀 👍🏽 👨\u200d👩\u200d👧\u200d👦 ❤️",
	"unicode spaces\u00a0nbsp\u3000ideographic\u2003em\u0085nel\u001cfs\u200bzwsp",
	"double\u00a0\u00a0nbsp and\u3000\u3000ideographic\v\vvt \u00a0 mixed",
	"control \x00\x01\x7f chars",
	"Code: def f(x):\n    return x**2  # comment\n\tif a!=b: pass",
	"URL https://example.com/path?q=1&r=2 and email a.b@c.de",
	"Special <|endoftext|> token <s> and </s> inside <unk> text <mask> here <pad>.",
	"<s>starts with special",
	"ends with special</s>",
	"<|endoftext|><|endoftext|>",
	"<<s>>",
	"The<mask>is",
	"a  <mask>  b",
	"<mask>",
	"<0x0A> literal byte token text",
	"▁ already has the meta symbol ▁▁",
	"Smol: <|im_start|>user\nHi there<|im_end|>\n",
	"User-defined: x<sep>y [MASK] ab abab cab <cls>",
	"Llama-3: <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|reserved_special_token_7|>",
	"Qwen: <|im_start|>assistant\n<think>\nhmm\n</think>\n\nOK<|im_end|><|endoftext|>",
	"Digits 1 12 123 1234 12345 1234567890 3.14159e-10 ١٢٣٤٥ ½⅓ x²³ 0x1F",
	"HE'S THEY'RE We'Ll it'S O'Neil rock'n'roll 'ſ 'K can't'",
	"CRLF line\r\nnext\r\n\r\n \n  \n\t\n end \n",
	"trailing spaces and newline  \n  ",
	"   \n\n\n   ",
	"!!! ... ?!? --- *** ((x)) [[y]] {{z}} /path/to//file\\win ```go\n```",
	strings.Repeat("a", 300),
	longText,
}

// parityPairs are the sentence-pair inputs.
var parityPairs = [][2]string{
	{"Hello world", "How are you?"},
	{strings.Repeat("The premise is long. ", 30), "short hypothesis"},
	{"short", strings.Repeat("long hypothesis ", 30)},
	{"equal length a b c d e f", "equal length g h i j k l"},
	{"", "only second"},
	{"Question one?  ", "  Question two <mask> with </s> special"},
	{"日本語 🤗", "Émile's café"},
}

// refSpec names a Hugging Face reference tokenizer for tok_encode.py.
type refSpec struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Path string `json:"path"`
	Pad  string `json:"pad,omitempty"`
}

// refPair is one encoded pair.
type refPair struct {
	IDs     []int `json:"ids"`
	TypeIDs []int `json:"type_ids"`
}

// refBatch is one padded batch.
type refBatch struct {
	InputIDs      [][]int64 `json:"input_ids"`
	AttentionMask [][]int64 `json:"attention_mask"`
	TokenTypeIDs  [][]int64 `json:"token_type_ids"`
}

// refResult holds what tok_encode.py computed for one reference tokenizer (see its docstring).
type refResult struct {
	Encode               [][]int   `json:"encode"`
	EncodeRaw            [][]int   `json:"encode_raw"`
	EncodeLiteral        [][]int   `json:"encode_literal"`
	EncodeLiteralSpecial [][]int   `json:"encode_literal_special"`
	Pairs                []refPair `json:"pairs"`
	PairsRaw             []refPair `json:"pairs_raw"`
	BatchMax             *refBatch `json:"batch_max"`
	BatchLeft            *refBatch `json:"batch_left"`
	BatchLongest         *refBatch `json:"batch_longest"`
	PairBatch            *refBatch `json:"pair_batch"`
	DecodeSkip           []string  `json:"decode_skip"`
	DecodeKeep           []string  `json:"decode_keep"`
	DecodeIDs            []string  `json:"decode_ids"`
}

// decodeProbes are id lists decoded by both sides: partial UTF-8 byte tokens, unknown ids and specials.
var decodeProbes = map[string][][]int{
	"llama2-hf": {{1, 243, 162}, {15043, 243, 162, 167, 154, 3186}, {2, 29871, 15043}, {3, 4, 200, 29871, 29871, 13},
		{0, 0, 15043, 99999}},
	"gpt2": {{50256, 15496}, {8582, 97}, {447, 247, 99}, {15496, 50256, 50256, 995}},
	// Llama-3: half of 😀 (76460 222), reserved specials, an id past the vocabulary.
	"llama3": {{128000, 9906, 1917}, {76460}, {76460, 222, 305, 19010, 385}, {128009, 9906, 128000, 128255},
		{9906, 130000}, {220, 220, 198}},
}

var (
	refOnce    sync.Once
	refResults map[string]*refResult
	refErr     string
)

// referenceSpecs lists the reference tokenizers; paths are resolved against the assets.
func referenceSpecs(t *testing.T) []refSpec {
	return []refSpec{
		{"gpt2", "fast_dir", assetPath(t, "gpt2"), ""},
		{"roberta", "fast_dir", assetPath(t, "roberta"), ""},
		{"llama2-slow", "llama_slow", assetPath(t, "llama2"), ""},
		{"llama2-sp", "sentencepiece", llama2ModelPath(t), ""},
		{"llama2-hf", "fast_dir", assetPath(t, "llama2-hf"), ""},
		{"llama2-hf-nolegacy", "fast_file", assetPath(t, "llama2-hf-nolegacy/tokenizer.json"), "</s>"},
		{"llama2-npm", "fast_dir", assetPath(t, "llama2-npm"), ""},
		{"smollm2", "fast_file", assetPath(t, "smollm2/tokenizer.json"), "<|endoftext|>"},
		{"spm-tiny-slow", "llama_slow", assetPath(t, "spm-tiny"), ""},
		{"spm-tiny-sp", "sentencepiece", assetPath(t, "spm-tiny/tokenizer.model"), ""},
		{"llama3", "fast_dir", assetPath(t, "llama3"), ""},
		{"qwen3", "fast_dir", assetPath(t, "qwen3"), ""},
		{"deepseek-v3", "fast_file", assetPath(t, "deepseek-v3/tokenizer.json"), deepseekEOS},
		{"gpt4o", "fast_dir", assetPath(t, "gpt4o"), ""},
	}
}

// reference runs scripts/reference/tok_encode.py once for all reference tokenizers and returns the result
// of one of them.
func reference(t *testing.T, name string) *refResult {
	t.Helper()
	specs := referenceSpecs(t)
	py := venvPython(t)
	script := filepath.Join(reftest.Root(t), "scripts", "reference", "tok_encode.py")
	refOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tok-ref")
		if err != nil {
			refErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		req := map[string]any{"tokenizers": specs, "texts": parityTexts, "pairs": parityPairs,
			"max_length": parityMaxLength, "decode": decodeProbes}
		data, err := json.Marshal(req)
		if err != nil {
			refErr = err.Error()
			return
		}
		in, out := filepath.Join(dir, "req.json"), filepath.Join(dir, "res.json")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			refErr = err.Error()
			return
		}
		cmd := exec.Command(py, script, in, out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			refErr = "tok_encode.py failed: " + err.Error() + "\n" + string(msg)
			return
		}
		data, err = os.ReadFile(out)
		if err != nil {
			refErr = err.Error()
			return
		}
		if err := json.Unmarshal(data, &refResults); err != nil {
			refErr = "tok_encode.py result: " + err.Error()
		}
	})
	if refErr != "" {
		t.Fatal(refErr)
	}
	r, ok := refResults[name]
	require.True(t, ok, "no reference result for %s", name)
	return r
}
