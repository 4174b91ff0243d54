// Package generate continues text with a Llama-family language model, as transformers' generate does: greedy
// decoding or sampling (temperature, top-k, top-p, repetition penalty), with the model's key/value cache
// (llama.Cache), stop tokens, and a callback per token for streaming. Chat prompts come from the model's own
// chat template (tokenizer.ChatTemplate).
//
// Greedy decoding gives transformers' tokens (tests on tiny random models and on SmolLM2-135M-Instruct compare
// the tokens and every step's logits). Sampling applies transformers' logits processors in generate's order with
// the same libtorch operations (the processed scores are compared with transformers'), then draws from the
// resulting distribution with a seeded PCG generator of this package, so a seed repeats a run here but does not
// reproduce torch.multinomial's draws.
package generate
