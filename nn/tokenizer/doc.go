// Package tokenizer implements, in pure Go, the BPE tokenizers of GPT-2, RoBERTa, Llama-2, SmolLM2 and the
// Split-regex tokenizers of Llama-3, Qwen2/Qwen3, DeepSeek-V3 and GPT-4o with token ids identical to Hugging
// Face's (transformers 4.44 / tokenizers 0.19; the tests compare with tokenizers 0.23).
//
// # Loaders
//
//   - LoadDir: a Hugging Face model directory (tokenizer.json, else tokenizer.model, else vocab.json +
//     merges.txt).
//   - LoadTokenizerJSON / ParseTokenizerJSON: a tokenizer.json with a BPE model: byte-level (GPT-2,
//     RoBERTa, SmolLM2; Llama-3, Qwen2, DeepSeek-V3, GPT-4o behind Split pre-tokenizers, with NFC and
//     ignore_merges where they set them) or SentencePiece-style with byte fallback (Llama, legacy
//     Prepend/Replace layout or the Metaspace layout). tokenizer_config.json and special_tokens_map.json next to it supply the
//     bos/eos/pad/unk tokens and, for Llama classes, add_bos_token/add_eos_token.
//   - LoadGPT2Files, LoadRobertaFiles: vocab.json + merges.txt, assembled as GPT2TokenizerFast and
//     RobertaTokenizerFast do.
//   - LoadSentencePiece / NewSentencePiece: a SentencePiece BPE tokenizer.model (the protobuf is decoded
//     by hand, see ParseSentencePieceModel), matching LlamaTokenizer.from_pretrained with default
//     settings (legacy=True) and, through EncodeLiteral, sentencepiece itself.
//   - NewFromGGUF: the tokenizer.ggml.* lists of a GGUF file ("gpt2": tokens and merges, with the
//     pre-tokenizers gpt2, smollm, llama-bpe, qwen2, deepseek-v3 and gpt-4o; "llama": tokens, scores and
//     token types).
//
// All return a *Pipeline, which implements Tokenizer: Encode, EncodePair, Decode, the batch encoders
// with truncation (longest-first for pairs, DefaultMaxLength = 128) and padding (right by default, to the
// batch's longest row or to the maximum length) producing [B][T] int64 ids and attention masks.
//
// # Behaviour
//
// Encoding follows tokenizers' pipeline. Added tokens (special tokens such as <|endoftext|>, <s>, <mask>)
// are found first, leftmost-longest, with their lstrip/rstrip/single_word rules (RoBERTa's <mask>
// absorbs the spaces before it). The remaining segments are normalized (Llama: "▁" prepended to every
// segment, spaces replaced by "▁"; Qwen2: NFC), pre-tokenized (GPT-2: the regex GPT2Pattern, written by
// hand because it needs the lookahead \s+(?!\S), then bytes mapped to printable runes; Llama-3 and the
// others: Split pre-tokenizers, see below) and merged by BPE:
//
//   - tokenizer.json models rank merges by their position in the merges list (lowest rank first,
//     leftmost on ties) and turn characters missing from the vocabulary into <0xXX> byte tokens when
//     byte_fallback is set; with ignore_merges (Llama-3) a word that is itself in the vocabulary is one
//     token;
//   - tokenizer.model and GGUF "llama" models merge by SentencePiece's rule: the pair whose concatenation
//     is the highest-scoring piece, leftmost on ties; unknown pieces fall back to bytes.
//
// Special tokens are added by the post-processor: RoBERTa <s> A </s> and <s> A </s></s> B </s> (type ids
// all 0), Llama <s> A and <s> A <s> B (type ids 0 then 1), GPT-2 nothing. Decoding runs the tokenizer's
// decoder chain (ByteLevel, or Llama's Replace/ByteFallback/Fuse/Strip); Hugging Face's
// clean_up_tokenization_spaces is not applied.
//
// # Split pre-tokenizers and their regexes
//
// Split follows tokenizers' NormalizedString::split: the text is cut into the matches of the pattern and
// the text between them (invert swaps the two), then the matches are removed, isolated, merged with the
// piece before or after them, or merged when contiguous. tokenizers compiles Regex patterns with
// Oniguruma (Ruby syntax, Unicode classes), whose meaning this package keeps on two engines:
//
//   - Go's regexp, for any pattern it can express once translated (\s, \d, \w, their negations and the POSIX
//     brackets are Unicode classes in Oniguruma, ASCII ones in Go, and are spelled out; ^ and $ always match
//     at line boundaries in Ruby syntax), and for patterns whose only lookahead is the pair of alternatives
//     `\s+(?!\S)|\s+` that Llama-3's, Qwen2's, GPT-4o's and DeepSeek's patterns end with: the lookahead is
//     applied by hand to the whitespace run (see onigWSRegex), 1.6 to 3 times as fast as regexp2 on them
//     (BenchmarkEncode llama3 vs llama3-regexp2);
//   - github.com/dlclark/regexp2 (a backtracking engine with .NET syntax) for other lookarounds, atomic
//     groups, backreferences and \b, with the same classes spelled out. Three of its differences are worked
//     around: its case-insensitive matching lower-cases runes instead of folding them (s and S in (?i)
//     scopes are widened to admit ſ), its \b knows .NET's word characters (\b becomes lookarounds on
//     Oniguruma's), and it mismatches sets that mix a negated category with others, e.g. [\P{L}\P{N}] or
//     the first characters of \P{L}+|\P{N}x (negated categories become negated classes or explicit ranges).
//
// Constructs that the engines would read differently and that are not translated (nested classes, &&,
// [:graph:], [:print:], [:^name:], POSIX brackets in case-insensitive scopes, possessive quantifiers, \h,
// \R, \X, ...) make loading fail. Oniguruma's multi-character case folding ((?i)ss matching ß) is not
// reproduced.
//
// TestSplitParity compares both engines with tokenizers' Split on every behavior, with and without invert,
// on hand-written and random texts; TestOnigClassParity their character classes on every assigned code
// point; TestModernTokenizersRandomText the ids of the four tokenizer.json files on random texts.
//
// # Why not github.com/sugarme/tokenizer v0.3.0
//
// That module loads tokenizer.json files but gets the ids of these models wrong in ways that matter for
// parity (TestSugarmeGaps pins the first four against the version in go.mod):
//
//   - its ByteLevel pre-tokenizer regex lacks \s+(?!\S)|\s+ (Go's regexp has no lookahead), so a
//     whitespace run before a word stays whole ("\n\n" -> 628 where GPT-2 gives 198, 198), and Go's \s is
//     ASCII-only, so no-break and ideographic spaces are split differently;
//   - special tokens written in the text are dropped by its ByteLevel pipeline ("<|endoftext|>",
//     RoBERTa's "<mask>");
//   - its BPE has no byte fallback: newlines, emoji and other characters outside Llama's vocabulary
//     become <unk> instead of <0xXX> tokens;
//   - RobertaProcessing gives the second sequence of a pair type id 1 (RoBERTa's are all 0);
//   - pretrained.GPT2() and RobertaBase() need vocabulary files the module does not ship (they log.Fatal)
//     and change the process's working directory; there is no SentencePiece .model loader; Split
//     pre-tokenizers with lookahead patterns panic; the Replace normalizer treats Regex patterns as
//     literal strings.
//
// Patching around these would have replaced its pre-tokenizer, added-token matching, BPE model and
// post-processor, i.e. everything but JSON decoding, so this package implements the pipeline directly.
//
// # Limits
//
// Not supported (the loaders return an error naming the file and component): Unigram, WordPiece and
// WordLevel models; normalizers other than Sequence, Prepend, Replace, Lowercase, Strip, NFC, NFD, NFKC and
// NFKD (so BertNormalizer and SentencePiece precompiled character maps, i.e. non-identity normalization
// rules); pre-tokenizers other than ByteLevel, Digits, Metaspace, Split and Sequence; BPE dropout; GGUF
// "gpt2" pre-tokenizers other than those listed above; the regex constructs listed above. Unicode tables
// are Go's (NFC and character classes: Unicode 15), which may differ from tokenizers' for characters
// assigned since. Offsets are not computed. For Llama tokenizer.model files, the tokenizers of transformers'
// slow and fast classes differ for control symbols other than <s>, </s>, <unk> (none in Llama-2): the
// .model loader follows the slow class (they are spelled out), GGUF vocabularies follow llama.cpp (every
// control token is recognised in the text).
package tokenizer
