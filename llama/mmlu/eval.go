package mmlu

import (
	"fmt"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// EvalOptions configure Evaluate.
type EvalOptions struct {
	// Shots is the number of dev examples per prompt before fitting (5 for the 5-shot protocol).
	Shots int
	// MaxLen is the largest prompt in tokens, special tokens included; shots are dropped from the end until the
	// prompt fits.
	MaxLen int
	// Batch and PadLeft choose the batching (BatchOptions).
	Batch   int
	PadLeft bool
	// Progress, when set, is called after each batch with the number of prompts scored so far, the number
	// answered correctly among them, and the total.
	Progress func(done, correct, total int)
}

// Result is the outcome of one question.
type Result struct {
	Subject string `json:"subject"`
	// File and Line locate the question in its CSV file.
	File string `json:"file"`
	Line int    `json:"line"`
	// Shots and Tokens describe the prompt: dev examples kept and its length in tokens.
	Shots  int `json:"shots"`
	Tokens int `json:"tokens"`
	// Logits are the next-token logits of the choice tokens A–D, [4].
	Logits [4]float32 `json:"logits"`
	// Pred and Gold are choice indices 0..3.
	Pred    int  `json:"pred"`
	Gold    int  `json:"gold"`
	Correct bool `json:"correct"`
}

// Evaluate scores lm on the questions of subjects with the Hendrycks k-shot protocol (BuildPrompts,
// ChoiceIDs, ChoiceLogits): the prediction is the choice whose token has the largest next-token logit
// after "Answer:". It returns the report (per-subject, subcategory, category and averaged accuracies) and the
// per-question results in prompt order.
func Evaluate(lm *nnllama.ForCausalLM, tok tokenizer.Tokenizer, subjects []SubjectData, o EvalOptions) (Report, []Result, error) {
	choices, err := ChoiceIDs(tok)
	if err != nil {
		return Report{}, nil, err
	}
	prompts, err := BuildPrompts(subjects, tok, o.Shots, o.MaxLen)
	if err != nil {
		return Report{}, nil, err
	}
	results := make([]Result, len(prompts))
	rows := make([][]int, len(prompts))
	for i, p := range prompts {
		rows[i] = p.IDs
		gold := p.Question.AnswerIndex()
		if gold < 0 {
			return Report{}, nil, fmt.Errorf("mmlu: %s:%d: gold answer %q: want one of A, B, C, D", p.Question.File, p.Question.Line, p.Question.Answer)
		}
		results[i] = Result{Subject: p.Subject, File: p.Question.File, Line: p.Question.Line, Shots: p.Shots,
			Tokens: len(p.IDs), Gold: gold}
	}
	done, correct := 0, 0
	var scoreErr error
	bo := BatchOptions{Batch: o.Batch, PadLeft: o.PadLeft, Progress: func(idx []int, logits [][4]float32) {
		for j, i := range idx {
			pred, err := Predict(logits[j][:])
			if err != nil && scoreErr == nil {
				scoreErr = fmt.Errorf("%s:%d: %w", results[i].File, results[i].Line, err)
			}
			results[i].Pred = pred
			results[i].Correct = err == nil && pred == results[i].Gold
			if results[i].Correct {
				correct++
			}
		}
		done += len(idx)
		if o.Progress != nil {
			o.Progress(done, correct, len(prompts))
		}
	}}
	logits, err := ChoiceLogits(lm, rows, choices, bo)
	if err != nil {
		return Report{}, nil, err
	}
	if scoreErr != nil {
		return Report{}, nil, scoreErr
	}
	var sc Scorer
	for i, p := range prompts {
		results[i].Logits = logits[i]
		if _, _, err := sc.Add(p.Subject, logits[i][:], p.Question.Answer); err != nil {
			return Report{}, nil, err
		}
	}
	return sc.Report(), results, nil
}
