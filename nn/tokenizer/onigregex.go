package tokenizer

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// Hugging Face's tokenizers compiles the Regex patterns of Split pre-tokenizers and Replace normalizers
// with Oniguruma (Ruby syntax, UTF-8, Unicode classes). compileOnig gives them the same meaning in Go (see
// "Split pre-tokenizers and their regexes" in the package documentation): translateOnig spells out what Go's
// regexp and regexp2 read differently, onigGoRegex runs what Go's regexp can express, onigWSRegex the
// patterns whose only lookahead is `\s+(?!\S)|\s+`, and onigRegexp2 the rest.

// onigRegex finds the non-overlapping matches of an Oniguruma pattern, leftmost first, as byte spans; as
// in the onig crate (and Rust's regex), an empty match right after the previous match is skipped.
type onigRegex interface {
	findAll(s string, fn func(start, end int))
	String() string
}

// regexpForce selects an engine in tests: "" picks the fastest that can express the pattern, "regexp2"
// always uses regexp2.
var regexpForce = ""

// compileOnig compiles a tokenizers Regex pattern.
func compileOnig(pattern string) (onigRegex, error) {
	if regexpForce != "regexp2" {
		if goPat, ok := goPattern(pattern); ok {
			if re, err := regexp.Compile(goPat); err == nil {
				return onigGoRegex{re: re, src: pattern}, nil
			}
		}
		if re, ok := compileWSLookahead(pattern); ok {
			return re, nil
		}
	}
	pat2, ok := translateOnig(pattern, false)
	if !ok {
		return nil, fmt.Errorf("regex %q: not supported (malformed, or a construct read differently by Oniguruma "+
			"and the Go engines: nested classes, &&, [:^name:], [:graph:], [:print:], case-insensitive POSIX classes)",
			pattern)
	}
	re, err := regexp2.Compile(pat2, regexp2.Multiline)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	return onigRegexp2{re: re, src: pattern}, nil
}

// literalPattern is Split's String pattern, which tokenizers compiles as an escaped regex (so the empty
// string matches, empty, at every character).
func literalPattern(lit string) onigRegex {
	return onigGoRegex{re: regexp.MustCompile(regexp.QuoteMeta(lit)), src: lit}
}

// onigGoRegex is a pattern translated to Go's regexp.
type onigGoRegex struct {
	re  *regexp.Regexp
	src string
}

func (r onigGoRegex) String() string { return r.src }

func (r onigGoRegex) findAll(s string, fn func(start, end int)) {
	// Go's FindAll skips empty matches abutting the previous match, as the onig crate does.
	for _, loc := range r.re.FindAllStringIndex(s, -1) {
		fn(loc[0], loc[1])
	}
}

// onigWSRegex runs a pattern of the form `A|\s+(?!\S)|\s+|B` on Go's regexp as `A|(\s+)|B`: when the
// whitespace group matches a run followed by a non-space, the lookahead gives back the run's last rune
// (unless the run is a single rune, which the plain \s+ alternative then takes), and the next match starts
// at that rune. So the matches are searched one by one, each on the rest of the text, which relies on the
// pattern having no anchors (compileWSLookahead refuses them). (One FindAll pass, searching one by one
// only after a shortened run, is slower: on long texts FindAll runs Go's NFA with capture groups, while
// each search here stops at its match, on the backtracker for texts of a few kB.)
type onigWSRegex struct {
	re    *regexp.Regexp
	group int // index of the whitespace group
	src   string
}

func (r onigWSRegex) String() string { return r.src }

func (r onigWSRegex) findAll(s string, fn func(start, end int)) {
	lastMatch := -1
	for pos := 0; pos <= len(s); {
		loc := r.re.FindStringSubmatchIndex(s[pos:])
		if loc == nil {
			return
		}
		start, end := pos+loc[0], pos+loc[1]
		if loc[2*r.group] >= 0 && end < len(s) {
			if _, w := utf8.DecodeLastRuneInString(s[start:end]); end-w > start {
				end -= w
			}
		}
		if start == end {
			pos = end + runeLen(s, end)
			if end == lastMatch {
				continue
			}
		} else {
			pos = end
		}
		lastMatch = end
		fn(start, end)
	}
}

// runeLen is the byte length of the rune at byte i of s, 1 at the end of s (to step past it).
func runeLen(s string, i int) int {
	if i >= len(s) {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}

// onigRegexp2 runs a pattern on regexp2 (rune positions, converted to byte offsets).
type onigRegexp2 struct {
	re  *regexp2.Regexp
	src string
}

func (r onigRegexp2) String() string { return r.src }

func (r onigRegexp2) findAll(s string, fn func(start, end int)) {
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i, c := range s {
		runes = append(runes, c)
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	m, err := r.re.FindRunesMatch(runes)
	lastMatch := -1
	for err == nil && m != nil {
		start, end := offs[m.Index], offs[m.Index+m.Length]
		if start != end || end != lastMatch {
			lastMatch = end
			fn(start, end)
		}
		m, err = r.re.FindNextMatch(m)
	}
	// err can only be a match timeout, and no timeout is set.
}

// compileWSLookahead compiles a pattern whose top-level alternatives include `\s+(?!\S)` directly followed
// by `\s+`, and which Go's regexp can express without them, as an onigWSRegex.
func compileWSLookahead(pattern string) (onigRegex, bool) {
	alts, ok := topLevelAlternatives(pattern)
	if !ok {
		return nil, false
	}
	for k := 0; k+1 < len(alts); k++ {
		if alts[k] != `\s+(?!\S)` || alts[k+1] != `\s+` {
			continue
		}
		var parts []string
		for i, a := range alts {
			switch i {
			case k:
				a = `(?P<onigws>\s+)`
			case k + 1:
				continue
			}
			g, ok := goPattern(a)
			if !ok || strings.Contains(g, "(?m:^)") || strings.Contains(a, `\A`) || strings.Contains(a, `\G`) {
				return nil, false // matching restarts on a suffix of the text, so no anchors
			}
			parts = append(parts, g)
		}
		re, err := regexp.Compile(strings.Join(parts, "|"))
		if err != nil {
			return nil, false
		}
		return onigWSRegex{re: re, group: re.SubexpIndex("onigws"), src: pattern}, true
	}
	return nil, false
}

// topLevelAlternatives splits a pattern at the | outside groups and character classes.
func topLevelAlternatives(p string) ([]string, bool) {
	var alts []string
	depth, class, start := 0, 0, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case class > 0:
			switch {
			case c == '[':
				class++
			case c == ']' && !(p[i-1] == '[' || (p[i-1] == '^' && p[i-2] == '[')):
				class--
			}
		case c == '[':
			class = 1
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			alts = append(alts, p[start:i])
			start = i + 1
		}
	}
	if depth != 0 || class != 0 {
		return nil, false
	}
	return append(alts, p[start:]), true
}

// spaceClass is Oniguruma's Unicode \s (White_Space) as the contents of a Go character class.
const spaceClass = `\t-\r \x{85}\p{Z}`

// tableClass writes the ranges of Unicode tables as the contents of a character class.
func tableClass(tables ...*unicode.RangeTable) string {
	var sb strings.Builder
	add := func(lo, hi, stride uint32) {
		for ; ; lo += stride {
			fmt.Fprintf(&sb, `\x{%X}`, lo)
			if hi-lo < stride {
				return
			}
			if stride == 1 {
				fmt.Fprintf(&sb, `-\x{%X}`, hi)
				return
			}
		}
	}
	for _, t := range tables {
		for _, r := range t.R16 {
			add(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride))
		}
		for _, r := range t.R32 {
			add(r.Lo, r.Hi, r.Stride)
		}
	}
	return sb.String()
}

// complementClass writes, as the contents of a character class, the code points in none of the tables and
// outside the extra ranges (pairs lo, hi): a negated category spelled out as ranges, for use inside a class
// (see regexp2NegatedCategories; Go's regexp has no \S or \W inside a class either).
func complementClass(tables []*unicode.RangeTable, extra ...rune) string {
	type span struct{ lo, hi rune }
	var spans []span
	for _, t := range tables {
		for _, r := range t.R16 {
			for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
				if r.Stride == 1 {
					spans = append(spans, span{c, rune(r.Hi)})
					break
				}
				spans = append(spans, span{c, c})
			}
		}
		for _, r := range t.R32 {
			for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
				if r.Stride == 1 {
					spans = append(spans, span{c, rune(r.Hi)})
					break
				}
				spans = append(spans, span{c, c})
			}
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		spans = append(spans, span{extra[i], extra[i+1]})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	var sb strings.Builder
	next := rune(0) // the first code point not yet known to be in the set
	for _, sp := range spans {
		if sp.lo > next {
			fmt.Fprintf(&sb, `\x{%X}-\x{%X}`, next, sp.lo-1)
		}
		next = max(next, sp.hi+1)
	}
	if next <= unicode.MaxRune {
		fmt.Fprintf(&sb, `\x{%X}-\x{%X}`, next, unicode.MaxRune)
	}
	return sb.String()
}

// Oniguruma's Unicode classes as the contents of a character class (checked on every code point by
// TestOnigClassParity).
var (
	// alphaClass is Alphabetic: letters, Nl and Other_Alphabetic (marks and symbols such as Ⓐ). Unicode 16,
	// which Oniguruma follows, added the combining Latin letters U+0363-036F and U+1DD3-1DE6 to
	// Other_Alphabetic; Go's tables (Unicode 15) lack them.
	alphaClass = `\p{L}\p{Nl}\x{363}-\x{36F}\x{1DD3}-\x{1DE6}` + tableClass(unicode.Other_Alphabetic)
	// wordClass is \w in a class and [[:word:]]: Alphabetic, marks, decimal digits, connector punctuation.
	wordClass = alphaClass + `\p{M}\p{Nd}\p{Pc}`
	// wordClassOutside is \w outside a class, where Oniguruma's Latin-1 table also counts the superscripts
	// and fractions ² ³ ¹ ¼ ½ ¾.
	wordClassOutside = wordClass + `\x{B2}\x{B3}\x{B9}\x{BC}-\x{BE}`
	// notSpaceClass, notDigitClass and notWordClass are \S, \D and \W inside a class.
	notSpaceClass = complementClass([]*unicode.RangeTable{unicode.White_Space})
	notDigitClass = complementClass([]*unicode.RangeTable{unicode.Nd})
	notWordClass  = complementClass([]*unicode.RangeTable{unicode.L, unicode.Nl, unicode.Other_Alphabetic,
		unicode.M, unicode.Nd, unicode.Pc}, 0x363, 0x36F, 0x1DD3, 0x1DE6)
	// posixClasses are the POSIX brackets [[:name:]] with their Unicode meaning.
	posixClasses = map[string]string{
		"alpha":  alphaClass,
		"digit":  `\p{Nd}`,
		"alnum":  alphaClass + `\p{Nd}`,
		"upper":  `\p{Lu}` + tableClass(unicode.Other_Uppercase),
		"lower":  `\p{Ll}` + tableClass(unicode.Other_Lowercase),
		"space":  spaceClass,
		"punct":  `\p{P}\p{S}`,
		"xdigit": `0-9A-Fa-f`,
		"cntrl":  `\p{Cc}`,
		"blank":  `\t\p{Zs}`,
		"word":   wordClass,
	}
)

// goPattern translates an Oniguruma pattern to Go's syntax; ok is false when the pattern uses something Go
// cannot express with the same meaning (lookarounds and atomic groups fail later, at compilation).
func goPattern(p string) (string, bool) { return translateOnig(p, true) }

// translateOnig rewrites what Go's regexp (forGo) or regexp2 reads differently from Oniguruma: \w, \s, \d
// and their negations, POSIX brackets (all Unicode classes in Oniguruma), ^, $, \uHHHH and \e (Go), \b and
// \B (regexp2), {,n} (both read it as text), (?m) (Ruby's dotall flag, (?s) in both) and (?x) (which Go
// lacks). ok is false when the engine cannot express the pattern.
//
// regexp2NegatedCategories: regexp2 (v1.12) decides wrongly whether a rune is in a character set that
// holds a negated category (\P{..}, \S, \W, \D) besides other categories, e.g. [\P{L}\P{N}]; its
// first-character optimization builds such sets from the alternatives of a pattern, so \P{L}+|\P{N}x
// skips matches. For regexp2 the negated categories are therefore written as negated classes, [^\p{L}],
// and spelled out as ranges inside classes.
//
// For regexp2, which matches case-insensitively by lower-casing, an s or S in a case-insensitive scope also
// admits U+017F (ſ), which Oniguruma folds to s (Go's regexp folds it too).
func translateOnig(p string, forGo bool) (string, bool) {
	var sb strings.Builder
	inClass := false
	// Case-insensitive scopes, for regexp2: ci now, ciStack at each open group; in a class, whether it
	// admits s (classS), its last literal ASCII character (prev) and whether a range dash follows it.
	ci, ciStack := false, []bool{}
	classS, dash := false, false
	var prev byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' {
			if i+1 >= len(p) {
				return "", false
			}
			i++
			e := p[i]
			prev, dash = 0, false
			if (e == 'p' || e == 'P') && i+1 < len(p) && p[i+1] == '{' {
				end := strings.IndexByte(p[i:], '}')
				if end < 0 {
					return "", false
				}
				name := p[i+2 : i+end]
				if strings.HasPrefix(name, "^") { // \p{^Name} is \P{Name} (regexp2 lacks the ^ form)
					name, e = name[1:], 'p'+'P'-e
				}
				switch {
				case e == 'p':
					sb.WriteString(`\p{` + name + "}")
				case !inClass:
					sb.WriteString(`[^\p{` + name + "}]")
				case forGo:
					sb.WriteString(`\P{` + name + "}")
				default:
					t, ok := unicode.Categories[name]
					if !ok {
						if t, ok = unicode.Scripts[name]; !ok {
							return "", false
						}
					}
					sb.WriteString(complementClass([]*unicode.RangeTable{t}))
				}
				i += end
				continue
			}
			if !forGo && (e == 'b' || e == 'B') {
				// \b in a class is a backspace; outside, a boundary of Oniguruma's word characters (regexp2's
				// \b knows .NET's, which include U+200C and U+200D).
				w := "[" + wordClassOutside + "]"
				switch {
				case inClass && e == 'b':
					sb.WriteString(`\x08`)
				case inClass:
					return "", false
				case e == 'b':
					sb.WriteString("(?:(?<=" + w + ")(?!" + w + ")|(?<!" + w + ")(?=" + w + "))")
				default:
					sb.WriteString("(?:(?<=" + w + ")(?=" + w + ")|(?<!" + w + ")(?!" + w + "))")
				}
				continue
			}
			switch {
			case e == 'w' && inClass:
				sb.WriteString(wordClass)
			case e == 'w':
				sb.WriteString("[" + wordClassOutside + "]")
			case e == 'W' && !inClass:
				sb.WriteString("[^" + wordClassOutside + "]")
			case e == 's' && inClass:
				sb.WriteString(spaceClass)
			case e == 's':
				sb.WriteString("[" + spaceClass + "]")
			case e == 'S' && !inClass:
				sb.WriteString("[^" + spaceClass + "]")
			case e == 'd':
				sb.WriteString(`\p{Nd}`)
			case e == 'D' && !inClass:
				sb.WriteString(`[^\p{Nd}]`)
			case e == 'D':
				sb.WriteString(notDigitClass)
			case e == 'S':
				sb.WriteString(notSpaceClass)
			case e == 'W':
				sb.WriteString(notWordClass)
			case !forGo:
				sb.WriteByte('\\')
				sb.WriteByte(e)
			case e == 'u': // \uHHHH
				if i+4 >= len(p) {
					return "", false
				}
				sb.WriteString(`\x{` + p[i+1:i+5] + `}`)
				i += 4
			case e == 'e':
				sb.WriteString(`\x{1B}`)
			case strings.IndexByte("pPxnrtfvaAz", e) >= 0 || !isASCIIAlnum(e):
				sb.WriteByte('\\')
				sb.WriteByte(e)
			default:
				return "", false // \S or \W in a class, \b, \h, \R, \K, backreferences, ...
			}
			continue
		}
		switch {
		case inClass && !forGo && ci && c != ']':
			switch {
			case dash && prev != 0:
				lo, hi := prev, c
				classS = classS || lo <= 's' && 's' <= hi || lo <= 'S' && 'S' <= hi
				prev, dash = 0, false
			case c == '-' && prev != 0:
				dash = true
			default:
				classS = classS || c == 's' || c == 'S'
				prev = c
			}
		case !inClass && !forGo && ci && (c == 's' || c == 'S'):
			sb.WriteString("[sſ]")
			continue
		}
		switch {
		case inClass:
			switch {
			case c == '[' && i+1 < len(p) && p[i+1] == ':':
				end := strings.Index(p[i:], ":]")
				if end < 0 {
					return "", false
				}
				cls, ok := posixClasses[p[i+2:i+end]]
				if !ok || ci {
					return "", false // [:^name:], graph, print; case-insensitive classes
				}
				sb.WriteString(cls)
				i += end + 1
				continue
			case c == '[' || c == '&' && i+1 < len(p) && p[i+1] == '&':
				return "", false // nested classes and intersections (.NET reads [ and && as text)
			case c == ']':
				inClass = false
				if classS {
					sb.WriteString("ſ")
				}
			}
		case c == '[':
			inClass, classS, prev, dash = true, false, 0, false
			sb.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				sb.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				sb.WriteString(`\]`)
				i++
			}
			continue
		case forGo && c == '^':
			sb.WriteString("(?m:^)")
			continue
		case forGo && c == '$':
			sb.WriteString("(?m:$)")
			continue
		case c == '{' && i+1 < len(p) && p[i+1] == ',':
			sb.WriteString("{0")
			continue
		case c == ')':
			if n := len(ciStack); n > 0 {
				ci, ciStack = ciStack[n-1], ciStack[:n-1]
			}
		case c == '(' && i+2 < len(p) && p[i+1] == '?' && (p[i+2] == '<' || p[i+2] == 'P') &&
			!strings.HasPrefix(p[i+2:], "<=") && !strings.HasPrefix(p[i+2:], "<!"):
			end := strings.IndexByte(p[i:], '>')
			if end < 0 {
				return "", false
			}
			ciStack = append(ciStack, ci)
			sb.WriteString(p[i : i+end+1]) // (?<name> verbatim
			i += end
			continue
		case c == '(' && i+1 < len(p) && p[i+1] == '?':
			j := i + 2
			for j < len(p) && strings.IndexByte("imx-", p[j]) >= 0 {
				j++
			}
			if j > i+2 && j < len(p) && (p[j] == ':' || p[j] == ')') {
				flags := p[i+2 : j]
				if forGo && strings.Contains(flags, "x") {
					return "", false
				}
				on, off, _ := strings.Cut(flags, "-")
				if p[j] == ':' {
					ciStack = append(ciStack, ci)
				}
				ci = (ci || strings.Contains(on, "i")) && !strings.Contains(off, "i")
				sb.WriteString("(?" + strings.ReplaceAll(flags, "m", "s") + string(p[j]))
				i = j
				continue
			}
			ciStack = append(ciStack, ci)
		case c == '(':
			ciStack = append(ciStack, ci)
		}
		sb.WriteByte(c)
	}
	if inClass {
		return "", false
	}
	return sb.String(), true
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
