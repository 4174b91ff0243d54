package tokenizer

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLlama2Model(t *testing.T) {
	data, err := os.ReadFile(llama2ModelPath(t))
	require.NoError(t, err)
	m, err := ParseSentencePieceModel(data)
	require.NoError(t, err)
	assert.Len(t, m.Pieces, 32000)
	assert.Equal(t, SPModelBPE, m.ModelType)
	assert.True(t, m.ByteFallback)
	assert.True(t, m.AddDummyPrefix)
	assert.False(t, m.RemoveExtraWhitespaces)
	assert.Equal(t, "identity", m.NormalizerName)
	assert.Empty(t, m.PrecompiledCharsmap)
	assert.Equal(t, []int32{0, 1, 2, -1}, []int32{m.UnkID, m.BOSID, m.EOSID, m.PadID})
	assert.Equal(t, []string{"<unk>", "<s>", "</s>", "<0x00>"}, m.Pieces[:4])
	assert.Equal(t, []PieceType{PieceUnknown, PieceControl, PieceControl, PieceByte}, m.Types[:4])
	assert.Equal(t, "▁t", m.Pieces[260])
	assert.Equal(t, float32(-1), m.Scores[260])
	assert.Equal(t, PieceNormal, m.Types[260])

	tok, err := NewSentencePiece("llama2", m)
	require.NoError(t, err)
	assert.Equal(t, 32000, tok.VocabSize())
	assert.Equal(t, []int{1, 2, 2, 0}, []int{tok.BOS(), tok.EOS(), tok.PAD(), tok.UNK()})
	assert.Equal(t, []int{1, 15043, 3186}, tok.Encode("Hello world", true))
}

func TestParseSentencePieceModelErrors(t *testing.T) {
	data, err := os.ReadFile(llama2ModelPath(t))
	require.NoError(t, err)
	_, err = ParseSentencePieceModel(data[:1000])
	assert.ErrorContains(t, err, "truncated")
	_, err = ParseSentencePieceModel(nil)
	assert.ErrorContains(t, err, "no pieces")

	m, err := ParseSentencePieceModel(data)
	require.NoError(t, err)
	uni := *m
	uni.ModelType = SPModelUnigram
	_, err = NewSentencePiece("uni.model", &uni)
	assert.ErrorContains(t, err, "uni.model: SentencePiece model type 1 is not supported")
	nfkc := *m
	nfkc.NormalizerName, nfkc.PrecompiledCharsmap = "nmt_nfkc", []byte{1, 2, 3}
	_, err = NewSentencePiece("nfkc.model", &nfkc)
	assert.ErrorContains(t, err, `normalization rule "nmt_nfkc"`)
	bad := *m
	bad.UnkID = 5
	_, err = NewSentencePiece("bad.model", &bad)
	assert.ErrorContains(t, err, "unk_id 5 is not an unknown piece")
}

func TestSPNormalizer(t *testing.T) {
	cases := []struct {
		n    spNormalizer
		in   string
		want string
	}{
		{spNormalizer{addDummyPrefix: true, escapeWhitespaces: true}, "Hello  world ", "▁Hello▁▁world▁"},
		{spNormalizer{addDummyPrefix: true, escapeWhitespaces: true}, "", ""},
		{spNormalizer{addDummyPrefix: true, escapeWhitespaces: true, removeExtraWhitespaces: true},
			"  Hello   world  ", "▁Hello▁world"},
		{spNormalizer{addDummyPrefix: true, escapeWhitespaces: true, removeExtraWhitespaces: true}, "   ", ""},
		{spNormalizer{addDummyPrefix: true, escapeWhitespaces: true, treatWhitespaceSuffix: true}, "a b", "a▁b▁"},
		{spNormalizer{escapeWhitespaces: true}, " a", "▁a"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.n.normalize(c.in), "%+v %q", c.n, c.in)
	}
}

// TestSPMUserDefinedAndUnused covers SentencePiece features the Llama-2 model does not use: user-defined
// pieces are never split, unused pieces are re-segmented into their parts, and without byte fallback a
// run of unknown characters becomes one <unk>.
func TestSPMUserDefinedAndUnused(t *testing.T) {
	tokens := []string{"<unk>", "<s>", "</s>", "▁", "a", "b", "c", "ab", "abc", "▁a", "<sep>", "bc"}
	types := []PieceType{PieceUnknown, PieceControl, PieceControl, PieceNormal, PieceNormal, PieceNormal,
		PieceNormal, PieceUnused, PieceNormal, PieceNormal, PieceUserDefined, PieceNormal}
	scores := []float32{0, 0, 0, -1, -2, -3, -4, -5, -6, -7, 0, -8}
	m := newSPMModel(tokens, scores, types, 0, false)
	assert.Equal(t, []int{3, 4, 5}, m.tokenize("▁ab", nil), "unused 'ab' is split back into a, b")
	assert.Equal(t, []int{4, 10, 11}, m.tokenize("a<sep>bc", nil), "user-defined <sep> kept whole")
	assert.Equal(t, []int{8}, m.tokenize("abc", nil), "unused 'ab' may still be merged further")
	assert.Equal(t, []int{4, 0, 5}, m.tokenize("axyzb", nil), "unknown run fused into one <unk>")
}
