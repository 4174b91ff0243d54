package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/llama/generate"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// runCmd runs the command and returns its exit status, stdout and stderr.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"-threads", "2"}, args...), strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestChatAnswerOfSmolLM2 asks SmolLM2-135M-Instruct a question through its chat template, greedily: the answer
// is the one transformers' generate gives (TestGreedyMatchesTransformersOnSmolLM2 in llama/generate checks the
// tokens), and it stops at <|im_end|>. Prompts from standard input are answered one after the other.
func TestChatAnswerOfSmolLM2(t *testing.T) {
	model := reftest.SmolLM2(t)
	code, out, errOut := runCmd(t, "", "-model", model, "-prompt", "What is the capital of France? Answer in one sentence.")
	require.Equal(t, cli.ExitOK, code, errOut)
	require.Equal(t, "The capital of France is Paris.\n", out)
	require.Contains(t, errOut, "chat template: true; greedy; stop tokens [2]")
	require.Contains(t, errOut, "finish: stop")

	code, out, errOut = runCmd(t, "What is the capital of France? Answer in one sentence.\n\n  Name three primary colors.  \n",
		"-model", model, "-max-new-tokens", "6")
	require.Equal(t, cli.ExitOK, code, errOut)
	require.Equal(t, ">>> What is the capital of France? Answer in one sentence.\nThe capital of France is Paris\n"+
		">>> Name three primary colors.\n", out[:len(">>> What is the capital of France? Answer in one sentence.\nThe capital of France is Paris\n>>> Name three primary colors.\n")])
	require.Equal(t, 2, strings.Count(errOut, "finish: length"), "-max-new-tokens 6 cuts both answers")
}

// TestCompareBaseWithAdapter saves a random LoRA adapter for SmolLM2 and checks -compare-base: every prompt is
// answered by the base model, then with the adapter, and the answers are those of the library on the base model
// and on the model with the (unmerged) adapter.
func TestCompareBaseWithAdapter(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model := reftest.SmolLM2(t)
	tok, err := tokenizer.Load(model)
	require.NoError(t, err)
	lm, err := nnllama.Load(model, nnllama.Options{})
	require.NoError(t, err)
	prompts := []string{"Say hello.", "What is two plus two?"}
	o := generate.Options{MaxNewTokens: 10, Stop: []int{tok.EOS()}}
	answers := func() []string {
		var out []string
		tmpl, err := tokenizer.LoadChatTemplate(model)
		require.NoError(t, err)
		for _, p := range prompts {
			text, err := tmpl.Render([]tokenizer.Message{{Role: "user", Content: p}}, true, tokenizer.SpecialTokenVars(tok))
			require.NoError(t, err)
			res, err := generate.Generate(context.Background(), lm, tok.Encode(text, false), o, nil)
			require.NoError(t, err)
			out = append(out, tok.Decode(res.Tokens, true))
		}
		return out
	}
	base := answers()
	cfg := loraplus.DefaultConfig("q_proj", "v_proj")
	cfg.Rank, cfg.Alpha = 4, 8
	m, err := loraplus.Wrap(lm, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(4, 5))
	for _, p := range m.Params {
		nn.FillNormal(p.Tensor, rng, 0.1)
	}
	dir := filepath.Join(t.TempDir(), "checkpoint-7")
	require.NoError(t, m.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: "SmolLM2-135M-Instruct"}))
	adapted := answers()
	require.NotEqual(t, base, adapted, "the adapter changes the answers")

	code, out, errOut := runCmd(t, strings.Join(prompts, "\n"), "-model", model, "-adapter", dir, "-compare-base", "-max-new-tokens", "10")
	require.Equal(t, cli.ExitOK, code, errOut)
	var want strings.Builder
	for i, p := range prompts {
		want.WriteString(">>> " + p + "\n[base] " + base[i] + "\n")
	}
	for i, p := range prompts {
		want.WriteString(">>> " + p + "\n[adapter checkpoint-7] " + adapted[i] + "\n")
	}
	require.Equal(t, want.String(), out)
	require.Contains(t, errOut, "adapter "+dir+" attached and merged")
}

// TestGenerationConfigDefaults checks that a model directory's generation_config.json sets the decoding flags not
// given, as transformers' generate does, that flags win, and that its eos_token_id list joins the stop tokens.
func TestGenerationConfigDefaults(t *testing.T) {
	model, tokDir := reftest.TinyLlama(t)
	write := func(s string) {
		require.NoError(t, os.WriteFile(filepath.Join(model, "generation_config.json"), []byte(s), 0o644))
	}
	write(`{"do_sample": true, "temperature": 0.6, "top_p": 0.9, "top_k": 20, "repetition_penalty": 1.1, "max_new_tokens": 30, "eos_token_id": [2, 7]}`)
	o, err := parseFlags([]string{"-model", model, "-tokenizer", tokDir}, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, generate.Options{MaxNewTokens: 30, Temperature: 0.6, TopK: 20, TopP: 0.9, RepetitionPenalty: 1.1}, o.gen)
	tok, err := tokenizer.Load(tokDir)
	require.NoError(t, err)
	stops, err := stopTokens(o, tok)
	require.NoError(t, err)
	require.Equal(t, []int{2, 7}, stops, "the tokenizer's </s> (2) and the config's list, once each")

	o, err = parseFlags([]string{"-model", model, "-tokenizer", tokDir, "-temperature", "0", "-top-k", "3", "-max-new-tokens", "5"}, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, generate.Options{MaxNewTokens: 5, TopK: 3, TopP: 0.9, RepetitionPenalty: 1.1}, o.gen, "flags win over the file")

	write(`{"do_sample": false, "temperature": 0.6, "eos_token_id": 5}`)
	o, err = parseFlags([]string{"-model", model, "-tokenizer", tokDir}, &bytes.Buffer{})
	require.NoError(t, err)
	require.Zero(t, o.gen.Temperature, "do_sample false decodes greedily whatever the temperature")
	stops, err = stopTokens(o, tok)
	require.NoError(t, err)
	require.Equal(t, []int{2, 5}, stops)

	write(`{"eos_token_id": "x"}`)
	o, err = parseFlags([]string{"-model", model, "-tokenizer", tokDir}, &bytes.Buffer{})
	require.NoError(t, err)
	_, err = stopTokens(o, tok)
	require.ErrorContains(t, err, "generation_config.json: eos_token_id")
	write(`{"do_sample": tru`)
	_, err = parseFlags([]string{"-model", model}, &bytes.Buffer{})
	require.ErrorContains(t, err, "generation_config.json")

	require.NoError(t, os.Remove(filepath.Join(model, "generation_config.json")))
	code, _, errOut := runCmd(t, "", "-model", model, "-tokenizer", tokDir, "-chat", "on", "-prompt", "x")
	require.Equal(t, cli.ExitError, code)
	require.Contains(t, errOut, "-chat on: "+tokDir+" has no chat template")
	code, out, errOut := runCmd(t, "", "-model", model, "-tokenizer", tokDir, "-prompt", "Hello", "-max-new-tokens", "3")
	require.Equal(t, cli.ExitOK, code, errOut)
	require.Contains(t, errOut, "chat template: false")
	require.Contains(t, errOut, "3 new tokens")
	require.Equal(t, 1, strings.Count(out, "\n"), out)
}

// TestFlagErrors checks that settings that cannot run are usage errors naming the flag.
func TestFlagErrors(t *testing.T) {
	model := reftest.SmolLM2(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-chat", "maybe"}, "-chat: want auto, on or off"},
		{[]string{"-compare-base"}, "-compare-base compares the base model with an adapter"},
		{[]string{"-temperature", "-1"}, "-temperature must be ≥ 0"},
		{[]string{"-top-p", "2"}, "-top-p must be in [0, 1]"},
		{[]string{"-top-k", "-3"}, "-top-k must be ≥ 0"},
		{[]string{"-max-new-tokens", "0"}, "-max-new-tokens must be positive"},
		{[]string{"-repetition-penalty", "-1"}, "-repetition-penalty must be ≥ 0"},
		{[]string{"-seed", "-1"}, "-seed must be >= 0"},
		{[]string{"-system", "be brief", "-chat", "off"}, "-system needs the chat template"},
		{[]string{"-device", "tpu"}, "-device: want cpu, cuda or auto"},
		{[]string{"-dtype", "int8"}, "-dtype: want float32, bfloat16 or float16"},
		{[]string{"hello"}, "unexpected arguments: hello (quote the prompt"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCmd(t, "", append([]string{"-model", model}, tc.args...)...)
			require.Equal(t, cli.ExitUsage, code)
			require.Contains(t, errOut, "generate: "+tc.want)
		})
	}
	code, _, errOut := runCmd(t, "", "-model", filepath.Join(t.TempDir(), "missing"), "-prompt", "x")
	require.Equal(t, cli.ExitError, code)
	require.Contains(t, errOut, "missing")
}

// TestStreamerHoldsSplitCharacters streams texts whose characters the Llama-2 tokenizer splits into byte tokens
// (CJK, emoji) one token at a time: no replacement character is ever printed, and the printed text is the
// decoding of all the tokens.
func TestStreamerHoldsSplitCharacters(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Dir(reftest.Shared(t, "tokenizers", "llama2", "tokenizer.model")))
	require.NoError(t, err)
	for _, text := range []string{"日本語のテキスト", "emoji 🎉🎈 and 𝄞 clef", "plain words, then ünïcödé", "  leading spaces"} {
		ids := tok.Encode(text, true)
		var out strings.Builder
		s := &streamer{tok: tok, w: &out}
		for _, id := range ids {
			require.NoError(t, s.add(id))
			require.NotContains(t, out.String(), "\uFFFD", text)
		}
		require.NoError(t, s.flush())
		require.Equal(t, tok.Decode(ids, true), out.String())
	}
}
