package instruct

import (
	"strings"
	"unicode"
)

// pyIsSpace reports whether Python's str.isspace holds for r. It differs
// from unicode.IsSpace only on U+001C..U+001F (the information separators),
// which Python treats as whitespace.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() with no arguments.
func pyStrip(s string) string {
	return strings.TrimFunc(s, pyIsSpace)
}
