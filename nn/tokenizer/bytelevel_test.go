package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestByteLevelTable(t *testing.T) {
	assert.Equal(t, 'Ġ', byteToRune[' '])
	assert.Equal(t, 'Ċ', byteToRune['\n'])
	assert.Equal(t, 'A', byteToRune['A'])
	assert.Len(t, runeToByte, 256)
	for b := 0; b < 256; b++ {
		assert.Equal(t, byte(b), runeToByte[byteToRune[b]])
	}
	assert.Equal(t, "ĠhÃ©", byteLevelEncode(" hé"))
}

// TestLossyUTF8 checks the replacement of ill-formed sequences against Python's
// bytes.decode("utf-8", errors="replace").
func TestLossyUTF8(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"plain", "plain"},
		{"\xe4\xbd", "\ufffd"},                 // truncated 3-byte sequence: one replacement
		{"\xff\xfe", "\ufffd\ufffd"},           // two invalid bytes
		{"a\xf0\x9f\xa4", "a\ufffd"},           // truncated emoji
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // surrogate: each byte
		{"\xc3\x28", "\ufffd("},
		{"\xe0\x80\x80", "\ufffd\ufffd\ufffd"},
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"ok\xe2\x82", "ok\ufffd"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, lossyUTF8([]byte(c.in)), "%q", c.in)
	}
}
