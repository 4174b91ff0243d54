package tokenizer

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestTruncatePair checks Hugging Face's longest_first arithmetic (tokenizers/src/utils/truncation.rs).
func TestTruncatePair(t *testing.T) {
	cases := []struct {
		na, nb, limit int
		wa, wb        int
	}{
		{3, 4, 10, 3, 4},   // fits
		{3, 20, 10, 3, 7},  // only the longer one is cut
		{20, 3, 10, 7, 3},  // same, swapped
		{6, 20, 10, 5, 5},  // both cut to half
		{20, 20, 11, 5, 6}, // odd limit: the second gets the extra token
		{30, 20, 11, 6, 5}, // ... unless the first is the longer one
		{15, 12, 0, 0, 0},
		{0, 30, 8, 0, 8},
	}
	for _, c := range cases {
		a, b := truncatePair(seq(c.na), seq(c.nb), c.limit)
		assert.Equal(t, []int{c.wa, c.wb}, []int{len(a), len(b)}, "%+v", c)
	}
}

func gpt2(t *testing.T) *Pipeline {
	tok, err := LoadDir(assetPath(t, "gpt2"))
	require.NoError(t, err)
	return tok
}

func TestBatchOptions(t *testing.T) {
	tok := gpt2(t)
	texts := []string{"Hello world", "a b c d e f g h", ""}

	b, err := tok.EncodeBatch(texts, BatchOptions{MaxLength: 4})
	require.NoError(t, err)
	assert.Equal(t, 3, b.Rows())
	assert.Equal(t, 4, b.Cols())
	assert.Equal(t, []int{2, 4, 0}, b.Lengths)
	assert.Equal(t, [][]int64{{15496, 995, 50256, 50256}, {64, 275, 269, 288}, {50256, 50256, 50256, 50256}}, b.IDs)
	assert.Equal(t, [][]int64{{1, 1, 0, 0}, {1, 1, 1, 1}, {0, 0, 0, 0}}, b.AttentionMask)
	ids, mask := b.Flat()
	assert.Len(t, ids, 12)
	assert.Equal(t, []int64{1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}, mask)

	b, err = tok.EncodeBatch(texts, BatchOptions{MaxLength: -1})
	require.NoError(t, err)
	assert.Equal(t, 8, b.Cols(), "no truncation")

	_, err = tok.EncodeBatch(texts, BatchOptions{MaxLength: -1, PadToMaxLength: true})
	assert.ErrorContains(t, err, "PadToMaxLength needs a MaxLength")
	_, err = tok.EncodePairBatch([]string{"a"}, nil, BatchOptions{})
	assert.ErrorContains(t, err, "1 first and 0 second")

	rob, err := LoadDir(assetPath(t, "roberta"))
	require.NoError(t, err)
	_, err = rob.EncodeBatch(texts, BatchOptions{MaxLength: 1})
	assert.ErrorContains(t, err, "max length 1 leaves no room for the 2 special tokens")
	b, err = rob.EncodeBatch(texts, BatchOptions{MaxLength: 1, NoSpecialTokens: true})
	require.NoError(t, err)
	assert.Equal(t, [][]int64{{15500}, {68}, {1}}, b.IDs, "<pad> is 1")

	tok.SetPAD(NoToken)
	_, err = tok.EncodeBatch(texts, BatchOptions{})
	assert.ErrorContains(t, err, "no PAD id")
}

func TestSpecialIDs(t *testing.T) {
	cases := []struct {
		dir                       string
		vocab, bos, eos, pad, unk int
	}{
		{"gpt2", 50257, 50256, 50256, 50256, 50256},
		{"roberta", 50262, 0, 2, 1, 3},
		{"llama2-hf", 32000, 1, 2, 2, 0},
		{"llama2-npm", 32000, 1, 2, 2, 0},
		{"smollm2", 49152, 0, 0, 0, NoToken},
	}
	for _, c := range cases {
		tok, err := LoadDir(assetPath(t, c.dir))
		require.NoError(t, err, c.dir)
		assert.Equal(t, []int{c.vocab, c.bos, c.eos, c.pad, c.unk},
			[]int{tok.VocabSize(), tok.BOS(), tok.EOS(), tok.PAD(), tok.UNK()}, c.dir)
		s, ok := tok.Token(tok.EOS())
		require.True(t, ok)
		id, ok := tok.TokenID(s)
		assert.True(t, ok)
		assert.Equal(t, tok.EOS(), id)
	}
}

// TestConcurrentEncode runs encoders in parallel (meaningful under -race; the BPE cache is shared).
func TestConcurrentEncode(t *testing.T) {
	tok := gpt2(t)
	want := tok.Encode(longText, true)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range parityTexts {
				tok.Encode(s, true)
			}
			if got := tok.Encode(longText, true); len(got) != len(want) {
				errs <- "length differs"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
