package generate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn/llama"
)

// Finish reasons of an Output, with the names of OpenAI-style APIs.
const (
	FinishStop   = "stop"   // a stop token came
	FinishLength = "length" // MaxNewTokens tokens were generated
)

// Output is what a generation produced.
type Output struct {
	// Tokens are the new token ids, the stop token last when one ended the generation.
	Tokens []int
	// FinishReason is FinishStop or FinishLength; empty when the generation was cut short by an error or ctx.
	FinishReason string
}

// Generate continues prompt (token ids, at least one) with lm, one token at a time: the prompt runs through the
// model once, filling a key/value cache, and each new token then costs one position. Tokens are picked as
// Options says. emit, when not nil, receives each new token as soon as it is chosen (for streaming); an error
// from emit, or ctx ending, stops the generation, and Generate returns the tokens so far with that error.
// The model runs without gradients; adapters attached to it (loraplus.Wrap, LoadAdapter) take part.
func Generate(ctx context.Context, lm *llama.ForCausalLM, prompt []int, o Options, emit func(token int) error) (Output, error) {
	var out Output
	if err := o.Check(); err != nil {
		return out, err
	}
	if len(prompt) == 0 {
		return out, fmt.Errorf("generate: empty prompt: give at least one token (e.g. the BOS token)")
	}
	vocab := lm.Model.Config.VocabSize
	for i, id := range prompt {
		if id < 0 || id >= vocab {
			return out, fmt.Errorf("generate: prompt token %d is id %d, outside the model's vocabulary [0, %d)", i, id, vocab)
		}
	}
	rng := newRNG(o.Seed)
	seen := slices.Clone(prompt)
	cache := lm.Model.NewCache()
	defer cache.Drop()
	step := int64Tensor(prompt)
	defer func() { step.MustDrop() }()
	for len(out.Tokens) < o.MaxNewTokens {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		logits, err := lm.NextLogits(step, cache) // [1, V]
		if err != nil {
			return out, err
		}
		scores := o.process(logits, seen)
		next := o.pick(scores, rng)
		scores.MustDrop()
		out.Tokens = append(out.Tokens, next)
		seen = append(seen, next)
		if emit != nil {
			if err := emit(next); err != nil {
				return out, err
			}
		}
		if slices.Contains(o.Stop, next) {
			out.FinishReason = FinishStop
			return out, nil
		}
		step.MustDrop()
		step = int64Tensor([]int{next})
	}
	out.FinishReason = FinishLength
	return out, nil
}

// int64Tensor returns ids as a [1, len(ids)] int64 tensor on the CPU (the model moves it to its device).
func int64Tensor(ids []int) *ts.Tensor {
	v := make([]int64, len(ids))
	for i, id := range ids {
		v[i] = int64(id)
	}
	return ts.MustOfSlice(v).MustView([]int64{1, int64(len(v))}, true)
}

// newRNG returns the sampler's generator for a seed.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }
