package mmlu

import (
	"fmt"

	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// ChoiceIDs returns the token ids whose next-token logits score answers A, B, C and D: each of
// AnswerChoices (" A" … " D") encoded without special tokens, and its LAST id. A byte-level BPE (SmolLM2,
// GPT-2) encodes " A" as the single token "ĠA"; SentencePiece (Llama-2) prepends "▁" and encodes it as
// ["▁", "▁A"], so the last id is "▁A" (319), the token that follows "Answer:" in a prompt. It fails when a
// choice encodes to nothing or two letters share an id.
func ChoiceIDs(tok tokenizer.Tokenizer) ([4]int, error) {
	var ids [4]int
	seen := map[int]string{}
	for i, c := range AnswerChoices {
		enc := tok.Encode(c, false)
		if len(enc) == 0 {
			return ids, fmt.Errorf("mmlu: answer %q encodes to no token", c)
		}
		id := enc[len(enc)-1]
		if prev, ok := seen[id]; ok {
			return ids, fmt.Errorf("mmlu: answers %q and %q share the last token id %d", prev, c, id)
		}
		seen[id] = c
		ids[i] = id
	}
	return ids, nil
}

// Prompt is one tokenized MMLU evaluation prompt.
type Prompt struct {
	// Subject is the question's subject, e.g. "abstract_algebra".
	Subject string
	// Question is the evaluated question (its Answer is the gold letter).
	Question Question
	// Text is the prompt: header, shots and the question, ending in "Answer:".
	Text string
	// IDs are the prompt's token ids [T], with the special tokens the tokenizer adds by default (Llama: BOS).
	IDs []int
	// Shots is the number of dev examples kept after dropping shots to fit the context.
	Shots int
}

// BuildPrompts builds the k-shot prompt of every question of subjects with the Hendrycks protocol
// (FitPrompt): the subject header, the subject's first k dev rows with their answers, then the question;
// shots are dropped from the end until the prompt, special tokens included, has at most maxLen tokens. Prompts
// come subject by subject, questions in file order. It fails when a zero-shot prompt does not fit.
func BuildPrompts(subjects []SubjectData, tok tokenizer.Tokenizer, k, maxLen int) ([]Prompt, error) {
	if maxLen <= 0 {
		return nil, fmt.Errorf("mmlu: maximum prompt length %d: want > 0", maxLen)
	}
	var out []Prompt
	for _, s := range subjects {
		for _, q := range s.Questions {
			var lastText string
			var lastIDs []int
			count := func(text string) (int, error) {
				lastText, lastIDs = text, tok.Encode(text, true)
				return len(lastIDs), nil
			}
			text, shots, err := FitPrompt(s.Name, s.Dev, q, k, maxLen, count)
			if err != nil {
				return nil, err
			}
			ids := lastIDs
			if text != lastText {
				ids = tok.Encode(text, true)
			}
			out = append(out, Prompt{Subject: s.Name, Question: q, Text: text, IDs: ids, Shots: shots})
		}
	}
	return out, nil
}
