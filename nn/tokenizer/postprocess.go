package tokenizer

// templatePiece is one element of a post-processing template: special token ids, or sequence A (seq 0)
// or B (seq 1), with the type id given to it.
type templatePiece struct {
	ids    []int // special token ids; nil for a sequence
	seq    int
	typeID int
}

// template is Hugging Face's TemplateProcessing (RobertaProcessing, BertProcessing and Llama's template are
// expressed with it too). The zero template adds nothing, giving A with type 0 and B with type 1.
type template struct {
	single []templatePiece
	pair   []templatePiece
	// zeroTypes sets every type id to 0, with or without special tokens (RobertaProcessing does).
	zeroTypes bool
}

// plainTemplate adds no special tokens (GPT-2's ByteLevel post-processor).
func plainTemplate() template {
	return template{
		single: []templatePiece{{seq: 0}},
		pair:   []templatePiece{{seq: 0}, {seq: 1, typeID: 1}},
	}
}

// robertaTemplate is RobertaProcessing: <s> A </s> and <s> A </s></s> B </s>, all type ids 0 (also without
// special tokens).
func robertaTemplate(cls, sep int) template {
	return template{
		single: []templatePiece{{ids: []int{cls}}, {seq: 0}, {ids: []int{sep}}},
		pair: []templatePiece{{ids: []int{cls}}, {seq: 0}, {ids: []int{sep}}, {ids: []int{sep}}, {seq: 1},
			{ids: []int{sep}}},
		zeroTypes: true,
	}
}

// bertTemplate is BertProcessing: [CLS] A [SEP] and [CLS] A [SEP] B [SEP] with type 1 for B's part.
func bertTemplate(cls, sep int) template {
	return template{
		single: []templatePiece{{ids: []int{cls}}, {seq: 0}, {ids: []int{sep}}},
		pair: []templatePiece{{ids: []int{cls}}, {seq: 0}, {ids: []int{sep}}, {seq: 1, typeID: 1},
			{ids: []int{sep}, typeID: 1}},
	}
}

// llamaTemplate is what LlamaTokenizerFast.update_post_processor builds: [bos] A [eos] and
// [bos] A [eos] [bos] B [eos], the second half with type id 1.
func llamaTemplate(bos, eos int, addBOS, addEOS bool) template {
	var t template
	half := func(seq, typeID int) []templatePiece {
		var p []templatePiece
		if addBOS {
			p = append(p, templatePiece{ids: []int{bos}, typeID: typeID})
		}
		p = append(p, templatePiece{seq: seq, typeID: typeID})
		if addEOS {
			p = append(p, templatePiece{ids: []int{eos}, typeID: typeID})
		}
		return p
	}
	t.single = half(0, 0)
	t.pair = append(half(0, 0), half(1, 1)...)
	return t
}

// added returns how many special tokens the template adds for a single sequence or a pair.
func (t template) added(pair bool) int {
	p := t.single
	if pair {
		p = t.pair
	}
	n := 0
	for _, e := range p {
		n += len(e.ids)
	}
	return n
}

// apply builds the post-processed encoding of a (and b when pair). Without addSpecial the sequences are
// only concatenated, with type ids 0 and 1 (0 and 0 for RoBERTa), as Hugging Face does.
func (t template) apply(a, b []int, pair, addSpecial bool) Encoding {
	zero := t.zeroTypes
	if !addSpecial {
		t = plainTemplate()
	}
	p := t.single
	if pair {
		p = t.pair
	}
	n := len(a) + len(b) + t.added(pair)
	enc := Encoding{IDs: make([]int, 0, n), TypeIDs: make([]int, 0, n)}
	for _, e := range p {
		ids := e.ids
		if ids == nil {
			ids = a
			if e.seq == 1 {
				ids = b
			}
		}
		enc.IDs = append(enc.IDs, ids...)
		typeID := e.typeID
		if zero {
			typeID = 0
		}
		for range ids {
			enc.TypeIDs = append(enc.TypeIDs, typeID)
		}
	}
	return enc
}
