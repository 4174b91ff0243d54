package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// PromptFile is the fixed set of MMLU prompts both stacks score, as token ids, so that tokenization is outside
// the measurement and the work is identical.
type PromptFile struct {
	Subjects []string  `json:"subjects"` // subject of each prompt
	Gold     string    `json:"gold"`     // gold letters, one per prompt
	Prompts  [][]int64 `json:"prompts"`  // token ids of each prompt (ending in "Answer:")
	Choices  []int64   `json:"choices"`  // token ids of " A", " B", " C", " D"
}

// BuildPrompts makes n prompts from the val split of the MMLU directory root: the first question of each of the
// first n subjects (in name order), with shots dev examples, tokenized with the GGUF file's tokenizer.
func BuildPrompts(root, ggufPath string, n, shots int) (*PromptFile, error) {
	subjects, err := mmlu.Load(root, mmlu.LoadOptions{Split: "val", Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(subjects) < n {
		return nil, fmt.Errorf("%s: %d subjects, %d prompts requested", root, len(subjects), n)
	}
	tok, err := tokenizer.Load(ggufPath)
	if err != nil {
		return nil, err
	}
	pf := &PromptFile{}
	for _, c := range mmlu.AnswerChoices {
		ids := tok.Encode(c, false)
		if len(ids) != 1 {
			return nil, fmt.Errorf("%s: answer %q is %d tokens, want 1", ggufPath, c, len(ids))
		}
		pf.Choices = append(pf.Choices, int64(ids[0]))
	}
	for _, s := range subjects[:n] {
		q := s.Questions[0]
		text, err := mmlu.BuildPrompt(s.Name, s.Dev, q, shots)
		if err != nil {
			return nil, err
		}
		ids := tok.Encode(text, true)
		row := make([]int64, len(ids))
		for i, id := range ids {
			row[i] = int64(id)
		}
		pf.Subjects = append(pf.Subjects, s.Name)
		pf.Gold += q.Answer
		pf.Prompts = append(pf.Prompts, row)
	}
	return pf, nil
}

// Tokens returns the number of tokens over all prompts.
func (p *PromptFile) Tokens() int {
	n := 0
	for _, r := range p.Prompts {
		n += len(r)
	}
	return n
}

// readPrompts reads a PromptFile.
func readPrompts(path string) (*PromptFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p PromptFile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(p.Prompts) == 0 || len(p.Choices) != 4 {
		return nil, fmt.Errorf("%s: %d prompts and %d answer tokens, want some prompts and 4 answers", path, len(p.Prompts), len(p.Choices))
	}
	return &p, nil
}
