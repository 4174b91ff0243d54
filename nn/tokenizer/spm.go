package tokenizer

import (
	"container/heap"
	"unicode/utf8"
)

// PieceType is the type of a SentencePiece piece; GGUF's tokenizer.ggml.token_type uses the same values.
type PieceType int32

// SentencePiece piece types (sentencepiece_model.proto, ModelProto.SentencePiece.Type).
const (
	PieceNormal      PieceType = 1
	PieceUnknown     PieceType = 2
	PieceControl     PieceType = 3
	PieceUserDefined PieceType = 4
	PieceUnused      PieceType = 5
	PieceByte        PieceType = 6
)

// spmModel is SentencePiece's BPE model (bpe_model.cc): starting from characters (user-defined pieces
// kept whole), it repeatedly merges the adjacent pair whose concatenation is the highest-scoring piece,
// leftmost first on ties. Pieces left unknown become <0xXX> byte pieces when byte fallback is on, or are
// fused into one unknown piece otherwise.
type spmModel struct {
	pieces       map[string]int // normal, user-defined and unused pieces: the ones merges may produce
	reserved     map[string]int // control, unknown and byte pieces
	scores       []float32
	types        []PieceType
	unk          int
	byteFallback bool
	byteIDs      [256]int
	user         *tokenMatcher // user-defined pieces, matched whole; nil when there are none
}

// newSPMModel indexes the pieces. unk must be the id of the unknown piece.
func newSPMModel(tokens []string, scores []float32, types []PieceType, unk int, byteFallback bool) *spmModel {
	m := &spmModel{pieces: make(map[string]int, len(tokens)), reserved: map[string]int{}, scores: scores,
		types: types, unk: unk, byteFallback: byteFallback}
	var user []*AddedToken
	for id, t := range tokens {
		switch types[id] {
		case PieceNormal, PieceUserDefined, PieceUnused:
			if _, dup := m.pieces[t]; !dup {
				m.pieces[t] = id
			}
			if types[id] == PieceUserDefined {
				user = append(user, &AddedToken{Content: t, ID: id})
			}
		default:
			if _, dup := m.reserved[t]; !dup {
				m.reserved[t] = id
			}
		}
	}
	if len(user) > 0 {
		m.user = newTokenMatcher(user, func(t *AddedToken) string { return t.Content })
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = NoToken
	}
	for id, t := range tokens {
		if types[id] == PieceByte {
			if b, ok := parseByteToken(t); ok {
				m.byteIDs[b] = id
			}
		}
	}
	return m
}

// parseByteToken parses "<0xXX>" (hex digits of either case).
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || t[:3] != "<0x" || t[5] != '>' {
		return 0, false
	}
	v := 0
	for _, c := range []byte(t[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return byte(v), true
}

// pieceID is SentencePiece's PieceToId: reserved pieces first, then normal ones, else the unknown id.
func (m *spmModel) pieceID(p string) int {
	if id, ok := m.reserved[p]; ok {
		return id
	}
	if id, ok := m.pieces[p]; ok {
		return id
	}
	return m.unk
}

type spmSymbol struct {
	start, end int // byte span of the text; start == end once merged into the left neighbour
	prev, next int
}

type spmPair struct {
	left, right int
	score       float32
	size        int
}

type spmAgenda []spmPair

func (a spmAgenda) Len() int { return len(a) }
func (a spmAgenda) Less(i, j int) bool {
	if a[i].score != a[j].score {
		return a[i].score > a[j].score
	}
	return a[i].left < a[j].left
}
func (a spmAgenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *spmAgenda) Push(x any)   { *a = append(*a, x.(spmPair)) }
func (a *spmAgenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

func (m *spmModel) tokenize(text string, out []int) []int {
	if text == "" {
		return out
	}
	syms := make([]spmSymbol, 0, len(text))
	for i := 0; i < len(text); {
		n := 0
		if m.user != nil {
			n = m.user.matchAt(text, i)
		}
		if n == 0 {
			_, n = utf8.DecodeRuneInString(text[i:])
		}
		syms = append(syms, spmSymbol{start: i, end: i + n, prev: len(syms) - 1, next: len(syms) + 1})
		i += n
	}
	syms[len(syms)-1].next = -1

	var agenda spmAgenda
	revMerge := map[string][2]string{}
	maybeAdd := func(left, right int) {
		if left < 0 || right < 0 {
			return
		}
		piece := text[syms[left].start:syms[right].end]
		id, ok := m.pieces[piece]
		if !ok {
			return
		}
		heap.Push(&agenda, spmPair{left: left, right: right, score: m.scores[id], size: len(piece)})
		if m.types[id] == PieceUnused {
			revMerge[piece] = [2]string{text[syms[left].start:syms[left].end], text[syms[right].start:syms[right].end]}
		}
	}
	for i := 1; i < len(syms); i++ {
		maybeAdd(i-1, i)
	}
	for agenda.Len() > 0 {
		top := heap.Pop(&agenda).(spmPair)
		l, r := &syms[top.left], &syms[top.right]
		if l.start == l.end || r.start == r.end || (l.end-l.start)+(r.end-r.start) != top.size {
			continue
		}
		l.end = r.end
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = top.left
		}
		r.start = r.end
		maybeAdd(l.prev, top.left)
		maybeAdd(top.left, l.next)
	}

	prevUnk := false
	var emit func(piece string)
	emit = func(piece string) {
		id := m.pieceID(piece)
		if id != m.unk && m.types[id] == PieceUnused {
			if parts, ok := revMerge[piece]; ok {
				emit(parts[0])
				emit(parts[1])
				return
			}
		}
		if id == m.unk && m.byteFallback {
			for k := 0; k < len(piece); k++ {
				if b := m.byteIDs[piece[k]]; b != NoToken {
					out = append(out, b)
				} else {
					out = append(out, m.unk)
				}
			}
			prevUnk = false
			return
		}
		if id == m.unk && prevUnk {
			return
		}
		out = append(out, id)
		prevUnk = id == m.unk
	}
	for i := 0; i >= 0; i = syms[i].next {
		emit(text[syms[i].start:syms[i].end])
	}
	return out
}
