package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// readVocabMerges reads a vocab.json ({"token": id}) and a merges.txt ("a b" per line; "#version" lines
// and blank lines are skipped, as Hugging Face does).
func readVocabMerges(vocabPath, mergesPath string) (map[string]int, [][2]string, error) {
	data, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, nil, err
	}
	var vocab map[string]int
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	if len(vocab) == 0 {
		return nil, nil, fmt.Errorf("%s: empty vocabulary", vocabPath)
	}
	data, err = os.ReadFile(mergesPath)
	if err != nil {
		return nil, nil, err
	}
	var merges [][2]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" || strings.HasPrefix(s, "#version") {
			continue
		}
		p, ok := parseMerge(s)
		if !ok {
			return nil, nil, fmt.Errorf("%s:%d: %q: want two tokens separated by one space", mergesPath, line, s)
		}
		merges = append(merges, p)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", mergesPath, err)
	}
	return vocab, merges, nil
}

// byteLevelFromFiles assembles a GPT-2-style byte-level BPE tokenizer from vocab.json and merges.txt with
// the given special tokens, which get new ids after the vocabulary when it lacks them (as Hugging Face's
// fast tokenizers add them).
func byteLevelFromFiles(vocabPath, mergesPath string, specials []*AddedToken) (*pipelineParts, error) {
	vocab, merges, err := readVocabMerges(vocabPath, mergesPath)
	if err != nil {
		return nil, err
	}
	bpe, err := newBPEModel(mergesPath, vocab, merges, bpeOptions{})
	if err != nil {
		return nil, err
	}
	next := 0
	for _, id := range vocab {
		next = max(next, id+1)
	}
	next = max(next, len(vocab))
	for _, s := range specials {
		if id, ok := vocab[s.Content]; ok {
			s.ID = id
		} else {
			s.ID = next
			next++
		}
	}
	return &pipelineParts{name: vocabPath, vocab: vocab, added: specials, pre: preByteLevel{useRegex: true},
		model: bpe, dec: decByteLevel{}, post: plainTemplate(), bos: NoToken, eos: NoToken, pad: NoToken,
		unk: NoToken}, nil
}

// LoadGPT2Files builds GPT-2's tokenizer from vocab.json (encoder.json) and merges.txt (vocab.bpe) as
// GPT2TokenizerFast does: byte-level BPE, <|endoftext|> as bos/eos/unk, no special tokens added by
// Encode (HF's GPT-2 adds no BOS), PAD = EOS.
func LoadGPT2Files(vocabPath, mergesPath string) (*Pipeline, error) {
	eot := &AddedToken{Content: "<|endoftext|>", Special: true}
	parts, err := byteLevelFromFiles(vocabPath, mergesPath, []*AddedToken{eot})
	if err != nil {
		return nil, err
	}
	parts.bos, parts.eos, parts.unk = eot.ID, eot.ID, eot.ID
	return newPipeline(*parts)
}

// LoadRobertaFiles builds RoBERTa's tokenizer from vocab.json and merges.txt as RobertaTokenizerFast does:
// byte-level BPE; <s> A </s> and <s> A </s></s> B </s> with type ids 0; <mask> absorbs the spaces on its
// left; PAD is <pad>.
func LoadRobertaFiles(vocabPath, mergesPath string) (*Pipeline, error) {
	s := &AddedToken{Content: "<s>", Special: true}
	eos := &AddedToken{Content: "</s>", Special: true}
	unk := &AddedToken{Content: "<unk>", Special: true}
	pad := &AddedToken{Content: "<pad>", Special: true}
	mask := &AddedToken{Content: "<mask>", Special: true, LStrip: true}
	parts, err := byteLevelFromFiles(vocabPath, mergesPath, []*AddedToken{s, eos, unk, pad, mask})
	if err != nil {
		return nil, err
	}
	parts.bos, parts.eos, parts.unk, parts.pad = s.ID, eos.ID, unk.ID, pad.ID
	parts.post = robertaTemplate(s.ID, eos.ID)
	return newPipeline(*parts)
}
