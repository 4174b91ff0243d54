package generate

import (
	"fmt"
	"math"
)

// Options choose how the next token is picked. Zero values leave a processor out: with Temperature 0 decoding is
// greedy (the most likely token, the first one on ties, as torch.argmax).
type Options struct {
	// MaxNewTokens bounds the tokens generated (> 0).
	MaxNewTokens int
	// Temperature > 0 samples from softmax(logits / Temperature); 0 decodes greedily.
	Temperature float64
	// TopK > 0 samples among the TopK most likely tokens only (transformers' top_k; its generate defaults to 50).
	TopK int
	// TopP in (0, 1) samples among the smallest set of most likely tokens whose probability reaches TopP
	// (nucleus sampling, transformers' top_p); 0 or 1 keeps every token.
	TopP float64
	// RepetitionPenalty > 1 makes the tokens already in the sequence (prompt included) less likely: their logits
	// are divided by it when positive and multiplied when negative (CTRL's penalty, transformers'
	// repetition_penalty). It applies to greedy decoding too. 0 or 1 turns it off.
	RepetitionPenalty float64
	// Seed seeds the sampler; runs with equal seeds and settings give equal tokens.
	Seed uint64
	// Stop lists the token ids that end the generation (the model's end-of-sequence and end-of-turn tokens); the
	// stop token is the last of the returned tokens, as in transformers' output.
	Stop []int
}

// sampling reports whether tokens are drawn rather than picked greedily.
func (o Options) sampling() bool { return o.Temperature > 0 }

// Check reports the first setting that cannot run, naming it.
func (o Options) Check() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case o.MaxNewTokens <= 0:
		return fmt.Errorf("generate: MaxNewTokens must be positive, got %d", o.MaxNewTokens)
	case o.Temperature < 0 || !finite(o.Temperature):
		return fmt.Errorf("generate: Temperature must be ≥ 0 (0: greedy), got %v", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("generate: TopK must be ≥ 0 (0: off), got %d", o.TopK)
	case o.TopP < 0 || o.TopP > 1 || !finite(o.TopP):
		return fmt.Errorf("generate: TopP must be in [0, 1] (0 or 1: off), got %v", o.TopP)
	case o.RepetitionPenalty < 0 || !finite(o.RepetitionPenalty):
		return fmt.Errorf("generate: RepetitionPenalty must be ≥ 0 (0 or 1: off), got %v", o.RepetitionPenalty)
	}
	return nil
}
