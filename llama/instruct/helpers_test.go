package instruct

import (
	"hash/crc32"
	"strings"
)

// toyTokenize is the deterministic tokenizer of scripts/reference/flan_encode.py:
// a BOS id, "</s>" as the EOS id, and pieces that are an ASCII alphanumeric
// run (with at most one leading space) or a single other character, each
// mapped to crc32(piece) % 32000 + 3.
func toyTokenize(text string) ([]int, error) {
	ids := []int{1}
	for n, chunk := range strings.Split(text, "</s>") {
		if n > 0 {
			ids = append(ids, 2)
		}
		for _, p := range toyPieces([]rune(chunk)) {
			ids = append(ids, int(crc32.ChecksumIEEE([]byte(p))%32000)+3)
		}
	}
	return ids, nil
}

func toyPieces(c []rune) []string {
	alnum := func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	var pieces []string
	for i := 0; i < len(c); {
		j := i
		if c[i] == ' ' && i+1 < len(c) && alnum(c[i+1]) {
			j = i + 1
		}
		if alnum(c[j]) {
			for j < len(c) && alnum(c[j]) {
				j++
			}
		} else {
			j++
		}
		pieces = append(pieces, string(c[i:j]))
		i = j
	}
	return pieces
}
