package tokenizer

// NoToken is the id reported for a special token that the vocabulary lacks (for example GPT-2's pad token).
const NoToken = -1

// Tokenizer turns text into token ids and back. All implementations in this package are *Pipeline values;
// the interface exists so that model code can depend on behaviour rather than on a concrete loader.
type Tokenizer interface {
	// Encode returns the ids [T] of text. With addSpecial the model's special tokens are added around it
	// (RoBERTa: <s> A </s>; Llama: <s> A; GPT-2: nothing). Special tokens written in the text are
	// recognised either way, as Hugging Face does.
	Encode(text string, addSpecial bool) []int
	// EncodePair encodes a sentence pair (RoBERTa: <s> A </s></s> B </s>; Llama: <s> A <s> B).
	EncodePair(a, b string, addSpecial bool) Encoding
	// EncodeBatch encodes texts with truncation and padding into rectangular [B][T] arrays.
	EncodeBatch(texts []string, opts BatchOptions) (*Batch, error)
	// EncodePairBatch encodes sentence pairs a[i], b[i] (truncated longest-first) into [B][T] arrays.
	EncodePairBatch(a, b []string, opts BatchOptions) (*Batch, error)
	// Decode turns ids back into text; skipSpecial drops special tokens such as <s> and <|endoftext|>.
	Decode(ids []int, skipSpecial bool) string
	// TokenID returns the id of a token string (vocabulary or added token).
	TokenID(token string) (int, bool)
	// Token returns the string of a token id.
	Token(id int) (string, bool)
	// VocabSize is one more than the largest token id (the embedding table's row count).
	VocabSize() int
	// BOS, EOS, PAD and UNK return the special token ids, or NoToken. PAD falls back to EOS when the
	// vocabulary has no pad token (GPT-2, Llama).
	BOS() int
	EOS() int
	PAD() int
	UNK() int
}

// Encoding is the result of encoding one sequence or a pair, post-processed (special tokens added) when
// asked for.
type Encoding struct {
	// IDs are the token ids, [T].
	IDs []int
	// TypeIDs are the segment ids, [T]: as Hugging Face's fast tokenizers set them (RoBERTa: all 0; Llama
	// and GPT-2 pairs: 0 for the first sequence, 1 for the second).
	TypeIDs []int
}

var _ Tokenizer = (*Pipeline)(nil)
