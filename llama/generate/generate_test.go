package generate

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// tinyRef holds the tiny random models of llama_generate.py tiny and transformers' greedy generations.
var tinyRef = struct {
	once sync.Once
	dir  string
}{}

// tinyModels writes the tiny models once per test binary and returns their folder.
func tinyModels(t *testing.T) string {
	tinyRef.once.Do(func() {
		dir, err := makeTemp()
		require.NoError(t, err)
		reftest.Run(t, "llama_generate.py", "tiny", dir)
		tinyRef.dir = dir
	})
	require.NotEmpty(t, tinyRef.dir, "llama_generate.py tiny failed in an earlier test")
	return tinyRef.dir
}

// readRef reads a reference file: prompt [B, P], tokens [B, N] (int64) and logits [B, N, V].
func readRef(t *testing.T, path string) map[string]*ts.Tensor {
	t.Helper()
	m, _, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	return m
}

// rows returns the rows of a [B, N] int64 tensor as ints.
func rows(x *ts.Tensor) [][]int {
	s := x.MustSize()
	v := x.Int64Values()
	out := make([][]int, s[0])
	for b := range out {
		for _, id := range v[int64(b)*s[1] : int64(b+1)*s[1]] {
			out[b] = append(out[b], int(id))
		}
	}
	return out
}

// requireClose fails when got and want differ by more than tol·(1 + |want|) anywhere.
func requireClose(t *testing.T, want, got *ts.Tensor, tol float64, what string) {
	t.Helper()
	w, g := want.Float64Values(), got.Float64Values()
	require.Len(t, g, len(w), what)
	for i := range w {
		if math.Abs(g[i]-w[i]) > tol*(1+math.Abs(w[i])) {
			t.Fatalf("%s: element %d: got %v, want %v (tolerance %g)", what, i, g[i], w[i], tol)
		}
	}
}

// checkAgainstReference generates greedily from every prompt row of ref and compares the tokens with
// transformers', then feeds transformers' tokens through the cache (the whole batch at once) and compares every
// step's logits.
func checkAgainstReference(t *testing.T, lm *llama.ForCausalLM, ref map[string]*ts.Tensor, stop []int, tol float64) {
	t.Helper()
	prompts, want := rows(ref["prompt"]), rows(ref["tokens"])
	for b, prompt := range prompts {
		var streamed []int
		out, err := Generate(context.Background(), lm, prompt, Options{MaxNewTokens: len(want[b]) + 5, Stop: stop},
			func(tok int) error { streamed = append(streamed, tok); return nil })
		require.NoError(t, err)
		if len(stop) > 0 && out.FinishReason == FinishStop {
			require.Equal(t, want[b], out.Tokens, "row %d: greedy tokens", b)
		} else {
			require.Equal(t, want[b], out.Tokens[:len(want[b])], "row %d: greedy tokens", b)
		}
		require.Equal(t, out.Tokens, streamed, "emit sees every token in order")
	}
	c := lm.Model.NewCache()
	defer c.Drop()
	N := ref["tokens"].MustSize()[1]
	step := ref["prompt"]
	for i := range N {
		got, err := lm.NextLogits(step, c)
		require.NoError(t, err)
		w := ref["logits"].MustSelect(1, i, false)
		requireClose(t, w, got, tol, "logits of step "+strconv.Itoa(int(i)))
		w.MustDrop()
		got.MustDrop()
		step = ref["tokens"].MustNarrow(1, i, 1, false)
	}
}

// TestGreedyMatchesTransformersOnTinyModels compares greedy generation with transformers' generate (do_sample
// False, use_cache) on tiny random Llama models: tied and untied heads, llama3 rope scaling, dynamic NTK scaling
// past max_position_embeddings, biases, and a batch of two prompts through the cache.
func TestGreedyMatchesTransformersOnTinyModels(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := tinyModels(t)
	for _, name := range []string{"tied", "untied", "llama3", "dynamic", "bias"} {
		t.Run(name, func(t *testing.T) {
			lm, err := llama.Load(filepath.Join(dir, name), llama.Options{})
			require.NoError(t, err)
			checkAgainstReference(t, lm, readRef(t, filepath.Join(dir, name, "ref.safetensors")), nil, 1e-4)
		})
	}
}

// TestGreedyMatchesTransformersOnSmolLM2 renders a chat prompt with SmolLM2-135M-Instruct's own template (from
// its GGUF), generates greedily until <|im_end|> or 40 tokens, and compares the tokens and each step's logits
// with transformers' generate on the same dequantized weights.
func TestGreedyMatchesTransformersOnSmolLM2(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	path := reftest.SmolLM2(t)
	tok, err := tokenizer.Load(path)
	require.NoError(t, err)
	tmpl, err := tokenizer.LoadChatTemplate(path)
	require.NoError(t, err)
	text, err := tmpl.Render([]tokenizer.Message{{Role: "user", Content: "What is the capital of France? Answer in one sentence."}},
		true, tokenizer.SpecialTokenVars(tok))
	require.NoError(t, err)
	prompt := tok.Encode(text, false)
	ids := make([]string, len(prompt))
	for i, id := range prompt {
		ids[i] = strconv.Itoa(id)
	}
	out := filepath.Join(t.TempDir(), "ref.safetensors")
	reftest.Run(t, "llama_generate.py", "smollm2", path, out, strings.Join(ids, ","), "40")
	lm, err := llama.Load(path, llama.Options{})
	require.NoError(t, err)
	ref := readRef(t, out)
	want := rows(ref["tokens"])[0]
	require.Equal(t, tok.EOS(), want[len(want)-1], "transformers stopped at the eos token: %q", tok.Decode(want, false))
	checkAgainstReference(t, lm, ref, []int{tok.EOS()}, 1e-4)
	t.Logf("SmolLM2 answers: %q", tok.Decode(want, true))
}

// TestGenerateStopsAndReportsErrors covers stop tokens, emit errors, cancellation and bad input.
func TestGenerateStopsAndReportsErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := tinyModels(t)
	lm, err := llama.Load(filepath.Join(dir, "untied"), llama.Options{})
	require.NoError(t, err)
	prompt := []int{5, 9, 17}
	ctx := context.Background()
	greedy, err := Generate(ctx, lm, prompt, Options{MaxNewTokens: 12}, nil)
	require.NoError(t, err)
	require.Equal(t, FinishLength, greedy.FinishReason)
	require.Len(t, greedy.Tokens, 12)

	stopAt := 4
	for i := range stopAt { // the stop token must not come earlier
		if greedy.Tokens[i] == greedy.Tokens[stopAt] {
			stopAt = i
		}
	}
	out, err := Generate(ctx, lm, prompt, Options{MaxNewTokens: 12, Stop: []int{-7, greedy.Tokens[stopAt]}}, nil)
	require.NoError(t, err)
	require.Equal(t, FinishStop, out.FinishReason)
	require.Equal(t, greedy.Tokens[:stopAt+1], out.Tokens, "the stop token ends the output")

	boom := errors.New("reader went away")
	n := 0
	out, err = Generate(ctx, lm, prompt, Options{MaxNewTokens: 12}, func(int) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, greedy.Tokens[:3], out.Tokens)
	require.Empty(t, out.FinishReason)

	cctx, cancel := context.WithCancel(ctx)
	out, err = Generate(cctx, lm, prompt, Options{MaxNewTokens: 12}, func(int) error {
		if len(greedy.Tokens) > 0 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, greedy.Tokens[:1], out.Tokens)

	bad := []struct {
		name   string
		prompt []int
		o      Options
		want   string
	}{
		{"no tokens asked", prompt, Options{}, "MaxNewTokens must be positive"},
		{"negative temperature", prompt, Options{MaxNewTokens: 1, Temperature: -1}, "Temperature"},
		{"NaN temperature", prompt, Options{MaxNewTokens: 1, Temperature: math.NaN()}, "Temperature"},
		{"negative top-k", prompt, Options{MaxNewTokens: 1, TopK: -1}, "TopK"},
		{"top-p above 1", prompt, Options{MaxNewTokens: 1, TopP: 1.5}, "TopP"},
		{"negative penalty", prompt, Options{MaxNewTokens: 1, RepetitionPenalty: -2}, "RepetitionPenalty"},
		{"empty prompt", nil, Options{MaxNewTokens: 1}, "empty prompt"},
		{"id outside the vocabulary", []int{1, 128}, Options{MaxNewTokens: 1}, "prompt token 1 is id 128, outside the model's vocabulary [0, 128)"},
		{"negative id", []int{-1}, Options{MaxNewTokens: 1}, "prompt token 0 is id -1"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(ctx, lm, tc.prompt, tc.o, nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestSamplingIsSeededAndTopKOneIsGreedy checks that equal seeds repeat a sampled generation, other seeds change
// it, and sampling among the single most likely token (top-k 1) gives the greedy tokens.
func TestSamplingIsSeededAndTopKOneIsGreedy(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := tinyModels(t)
	lm, err := llama.Load(filepath.Join(dir, "tied"), llama.Options{})
	require.NoError(t, err)
	prompt := []int{3, 4, 5}
	ctx := context.Background()
	gen := func(o Options) []int {
		o.MaxNewTokens = 16
		out, err := Generate(ctx, lm, prompt, o, nil)
		require.NoError(t, err)
		return out.Tokens
	}
	hot := Options{Temperature: 1.5, Seed: 1}
	a, b := gen(hot), gen(hot)
	require.Equal(t, a, b, "same seed, same tokens")
	hot.Seed = 2
	require.NotEqual(t, a, gen(hot), "another seed, other tokens")
	require.Equal(t, gen(Options{}), gen(Options{Temperature: 0.7, TopK: 1, Seed: 3}), "top-k 1 keeps only the argmax")
}

// TestDrawFollowsTheDistribution draws 40,000 times from a fixed distribution with one impossible token.
func TestDrawFollowsTheDistribution(t *testing.T) {
	p := []float32{0.5, 0.25, 0, 0.125, 0.125}
	rng := newRNG(9)
	counts := make([]int, len(p))
	const n = 40000
	for range n {
		counts[draw(p, rng)]++
	}
	require.Zero(t, counts[2], "a token of probability 0 is never drawn")
	for i, c := range counts {
		require.InDelta(t, float64(p[i]), float64(c)/n, 0.01, "token %d", i)
	}
}
