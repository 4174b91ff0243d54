package tokenizer

import (
	"container/heap"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// model turns one pre-tokenized word into ids.
type model interface {
	tokenize(word string, out []int) []int
}

// mergeRule is the rank of a merge and the id of the token it produces.
type mergeRule struct {
	rank  int
	newID int
}

// bpeModel is Hugging Face's BPE model: merges ranked by their position in the merges list (GPT-2,
// RoBERTa, Llama's tokenizer.json), with optional byte fallback to <0xXX> tokens and unknown-token fusing.
type bpeModel struct {
	vocab        map[string]int
	merges       map[[2]int]mergeRule
	unk          int // NoToken when the model has no unknown token
	fuseUnk      bool
	byteFallback bool
	byteIDs      [256]int // id of "<0xXX>", NoToken when absent
	contPrefix   string   // continuing_subword_prefix
	endSuffix    string   // end_of_word_suffix
	ignoreMerges bool     // a word that is itself in the vocabulary is one token

	mu    sync.Mutex
	cache map[string][]int
}

// bpeCacheSize bounds the per-model word cache (Hugging Face uses the same capacity).
const bpeCacheSize = 10000

// bpeOptions are the BPE model settings of a tokenizer.json (all off for GPT-2).
type bpeOptions struct {
	unk          string // unknown token, "" for none
	fuseUnk      bool
	byteFallback bool
	contPrefix   string
	endSuffix    string
	ignoreMerges bool
}

// newBPEModel builds the merge table. merges[i] is the pair of rank i; a merge whose parts or result are
// not in the vocabulary is an error, as in Hugging Face. name identifies the source in errors.
func newBPEModel(name string, vocab map[string]int, merges [][2]string, o bpeOptions) (*bpeModel, error) {
	m := &bpeModel{vocab: vocab, merges: make(map[[2]int]mergeRule, len(merges)), unk: NoToken,
		fuseUnk: o.fuseUnk, byteFallback: o.byteFallback, contPrefix: o.contPrefix, endSuffix: o.endSuffix,
		ignoreMerges: o.ignoreMerges, cache: map[string][]int{}}
	if o.unk != "" {
		id, ok := vocab[o.unk]
		if !ok {
			return nil, fmt.Errorf("%s: unknown token %q is not in the vocabulary", name, o.unk)
		}
		m.unk = id
	}
	for i, mg := range merges {
		a, okA := vocab[mg[0]]
		b, okB := vocab[mg[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("%s: merge %d %q: token not in the vocabulary", name, i+1, mg[0]+" "+mg[1])
		}
		right := mg[1]
		if o.contPrefix != "" {
			right = strings.TrimPrefix(right, o.contPrefix)
		}
		c, ok := vocab[mg[0]+right]
		if !ok {
			return nil, fmt.Errorf("%s: merge %d %q: merged token %q not in the vocabulary", name, i+1,
				mg[0]+" "+mg[1], mg[0]+right)
		}
		m.merges[[2]int{a, b}] = mergeRule{rank: i, newID: c}
	}
	for b := 0; b < 256; b++ {
		m.byteIDs[b] = NoToken
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	return m, nil
}

// bpeSymbol is one symbol of a word being merged, in a doubly linked list over the initial positions.
type bpeSymbol struct {
	id         int
	prev, next int
	size       int // bytes of the word covered; 0 once merged into its left neighbour
}

// bpeCandidate is a possible merge at symbol pos.
type bpeCandidate struct {
	pos, rank, newID int
}

type bpeQueue []bpeCandidate

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].pos < q[j].pos
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeCandidate)) }
func (q *bpeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (m *bpeModel) tokenize(word string, out []int) []int {
	if word == "" {
		return out
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(out, id)
		}
	}
	m.mu.Lock()
	ids, ok := m.cache[word]
	m.mu.Unlock()
	if ok {
		return append(out, ids...)
	}
	ids = m.mergeWord(word)
	m.mu.Lock()
	if len(m.cache) < bpeCacheSize {
		m.cache[word] = ids
	}
	m.mu.Unlock()
	return append(out, ids...)
}

// mergeWord is Hugging Face's BPE::merge_word followed by Word::merge_all (without dropout).
func (m *bpeModel) mergeWord(w string) []int {
	syms := make([]bpeSymbol, 0, len(w))
	add := func(id, size int) {
		n := len(syms)
		syms = append(syms, bpeSymbol{id: id, prev: n - 1, next: n + 1, size: size})
	}
	unkID, unkLen := NoToken, 0
	for i := 0; i < len(w); {
		_, width := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+width]
		if i > 0 && m.contPrefix != "" {
			s = m.contPrefix + s
		}
		if i+width == len(w) && m.endSuffix != "" {
			s += m.endSuffix
		}
		i += width
		if id, ok := m.vocab[s]; ok {
			if unkID != NoToken {
				add(unkID, unkLen)
				unkID = NoToken
			}
			add(id, width)
			continue
		}
		if m.byteFallback && m.hasBytes(s) {
			if unkID != NoToken {
				add(unkID, unkLen)
				unkID = NoToken
			}
			for k := 0; k < len(s); k++ {
				add(m.byteIDs[s[k]], 1)
			}
			continue
		}
		if m.unk == NoToken {
			continue
		}
		switch {
		case unkID != NoToken && m.fuseUnk:
			unkLen += width
		case unkID != NoToken:
			add(unkID, unkLen)
			unkLen = width
		default:
			unkID, unkLen = m.unk, width
		}
	}
	if unkID != NoToken {
		add(unkID, unkLen)
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1].next = -1

	q := make(bpeQueue, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if r, ok := m.merges[[2]int{syms[i].id, syms[i+1].id}]; ok {
			q = append(q, bpeCandidate{pos: i, rank: r.rank, newID: r.newID})
		}
	}
	heap.Init(&q)
	for q.Len() > 0 {
		top := heap.Pop(&q).(bpeCandidate)
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next == -1 {
			continue
		}
		right := syms[cur.next]
		if r, ok := m.merges[[2]int{cur.id, right.id}]; !ok || r.newID != top.newID {
			continue
		}
		cur.id = top.newID
		cur.size += right.size
		syms[cur.next].size = 0
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if r, ok := m.merges[[2]int{syms[cur.prev].id, cur.id}]; ok {
				heap.Push(&q, bpeCandidate{pos: cur.prev, rank: r.rank, newID: r.newID})
			}
		}
		if cur.next >= 0 {
			if r, ok := m.merges[[2]int{cur.id, syms[cur.next].id}]; ok {
				heap.Push(&q, bpeCandidate{pos: top.pos, rank: r.rank, newID: r.newID})
			}
		}
	}
	ids := make([]int, 0, len(syms))
	for i := 0; i >= 0 && i < len(syms); i = syms[i].next {
		ids = append(ids, syms[i].id)
	}
	return ids
}

// hasBytes tells whether every byte of s has a <0xXX> token.
func (m *bpeModel) hasBytes(s string) bool {
	for k := 0; k < len(s); k++ {
		if m.byteIDs[s[k]] == NoToken {
			return false
		}
	}
	return true
}

// parseMerge splits one merges.txt line "a b" (exactly one space, as Hugging Face requires).
func parseMerge(line string) ([2]string, bool) {
	a, b, ok := strings.Cut(line, " ")
	if !ok || strings.Contains(b, " ") || a == "" || b == "" {
		return [2]string{}, false
	}
	return [2]string{a, b}, true
}
