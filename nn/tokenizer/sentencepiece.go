package tokenizer

import (
	"fmt"
	"os"
	"slices"
)

// LoadSentencePiece loads a SentencePiece BPE tokenizer.model (Llama-2's). It matches
// transformers' LlamaTokenizer.from_pretrained on a directory holding only that file, i.e. the default
// legacy=True behaviour: <s> added (no </s>), each text segment between special tokens encoded by
// sentencepiece on its own (so it gets its own "▁" dummy prefix), and the unknown, BOS and EOS pieces
// (<unk>, <s>, </s>) written in the text recognised as special tokens; other control pieces are left to
// sentencepiece, which spells them out, as LlamaTokenizer does. EncodeLiteral gives sentencepiece's own
// output (no special tokens in text). Unigram models and models with a non-identity normalization rule
// (a precompiled character map such as nmt_nfkc) are rejected.
func LoadSentencePiece(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseSentencePieceModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewSentencePiece(path, m)
}

// NewSentencePiece builds the tokenizer of a parsed SentencePiece model (see LoadSentencePiece); name is
// used in errors.
func NewSentencePiece(name string, m *SentencePieceModel) (*Pipeline, error) {
	if m.ModelType != SPModelBPE {
		return nil, fmt.Errorf("%s: SentencePiece model type %d is not supported (only BPE, type 2)", name, m.ModelType)
	}
	if len(m.PrecompiledCharsmap) > 0 {
		return nil, fmt.Errorf("%s: normalization rule %q (precompiled charsmap) is not supported, only identity",
			name, m.NormalizerName)
	}
	if len(m.Scores) != len(m.Pieces) || len(m.Types) != len(m.Pieces) {
		return nil, fmt.Errorf("%s: %d pieces but %d scores and %d types", name, len(m.Pieces), len(m.Scores), len(m.Types))
	}
	id := func(v int32, field string) (int, error) {
		if v < 0 {
			return NoToken, nil
		}
		if int(v) >= len(m.Pieces) {
			return NoToken, fmt.Errorf("%s: trainer_spec.%s %d out of range (%d pieces)", name, field, v, len(m.Pieces))
		}
		return int(v), nil
	}
	unk, err := id(m.UnkID, "unk_id")
	if err != nil {
		return nil, err
	}
	if unk == NoToken || m.Types[unk] != PieceUnknown {
		return nil, fmt.Errorf("%s: trainer_spec.unk_id %d is not an unknown piece", name, m.UnkID)
	}
	bos, err := id(m.BOSID, "bos_id")
	if err != nil {
		return nil, err
	}
	eos, err := id(m.EOSID, "eos_id")
	if err != nil {
		return nil, err
	}
	pad, err := id(m.PadID, "pad_id")
	if err != nil {
		return nil, err
	}
	norm := spNormalizer{addDummyPrefix: m.AddDummyPrefix, removeExtraWhitespaces: m.RemoveExtraWhitespaces,
		escapeWhitespaces: m.EscapeWhitespaces, treatWhitespaceSuffix: m.TreatWhitespaceAsSuffix}
	return newSPMPipeline(spmSpec{name: name, tokens: m.Pieces, scores: m.Scores, types: m.Types,
		byteFallback: m.ByteFallback, norm: norm, bos: bos, eos: eos, pad: pad, unk: unk,
		addBOS: bos != NoToken, stripPrefix: m.AddDummyPrefix && !m.TreatWhitespaceAsSuffix,
		matchOnly: []int{unk, bos, eos}})
}

// spmSpec is what newSPMPipeline needs from a tokenizer.model or a GGUF "llama" vocabulary.
type spmSpec struct {
	name               string
	tokens             []string
	scores             []float32
	types              []PieceType
	byteFallback       bool
	norm               normalizer
	bos, eos, pad, unk int
	addBOS, addEOS     bool
	stripPrefix        bool
	// matchOnly, when set, restricts the special pieces recognised in the text to these ids; otherwise
	// every control and unknown piece is (llama.cpp, and transformers' fast conversion, do that).
	matchOnly []int
}

// newSPMPipeline assembles a SentencePiece BPE tokenizer: unknown and control pieces are special added
// tokens (split before normalization, see matchOnly), the template is LlamaTokenizer's, and the decoder is
// Llama's.
func newSPMPipeline(s spmSpec) (*Pipeline, error) {
	vocab := make(map[string]int, len(s.tokens))
	var added []*AddedToken
	for id, t := range s.tokens {
		if _, dup := vocab[t]; !dup {
			vocab[t] = id
		}
		if s.types[id] == PieceControl || s.types[id] == PieceUnknown {
			a := &AddedToken{Content: t, ID: id, Special: true}
			if s.matchOnly != nil && !slices.Contains(s.matchOnly, id) {
				a.Unmatched = true
			}
			added = append(added, a)
		}
	}
	if (s.addBOS && s.bos == NoToken) || (s.addEOS && s.eos == NoToken) {
		return nil, fmt.Errorf("%s: BOS/EOS requested but the vocabulary has none", s.name)
	}
	return newPipeline(pipelineParts{
		name:  s.name,
		vocab: vocab,
		added: added,
		norm:  s.norm,
		model: newSPMModel(s.tokens, s.scores, s.types, s.unk, s.byteFallback),
		post:  llamaTemplate(s.bos, s.eos, s.addBOS, s.addEOS),
		dec:   llamaDecoder(s.stripPrefix),
		bos:   s.bos, eos: s.eos, pad: s.pad, unk: s.unk,
	})
}
