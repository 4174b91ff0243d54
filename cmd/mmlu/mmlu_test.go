package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/tokenizer"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

func mmluDir(t *testing.T) string {
	return filepath.Join(reftest.Root(t), "..", "shared", "data", "mmlu")
}

// runCmd runs the command with args and reads back its JSON results.
func runCmd(t *testing.T, args ...string) (*resultFile, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "res", "results.json")
	var stdout, stderr bytes.Buffer
	err := run(append(args, "-out", out, "-threads", "2"), &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	var r resultFile
	require.NoError(t, json.Unmarshal(raw, &r))
	return &r, stdout.String()
}

// TestEndToEndSmolLM2 scores two validation questions with SmolLM2 in one left-padded batch: the JSON holds the
// settings, the report and one result per question, and the table names subjects and categories.
func TestEndToEndSmolLM2(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, table := runCmd(t, "-model", reftest.SmolLM2(t), "-data", mmluDir(t), "-split", "val", "-subjects", "marketing,astronomy",
		"-limit", "1", "-shots", "1", "-batch", "2", "-pad", "left")
	assert.Equal(t, 2, r.Questions)
	assert.Equal(t, 2, r.Subjects)
	assert.Equal(t, [4]int{330, 389, 340, 422}, r.ChoiceIDs)
	assert.Equal(t, [4]string{"ĠA", "ĠB", "ĠC", "ĠD"}, r.ChoiceTokens)
	assert.Equal(t, 8192, r.MaxLen)
	assert.Equal(t, "left", r.Pad)
	require.Len(t, r.Results, 2)
	for _, q := range r.Results {
		assert.Equal(t, 1, q.Shots)
		assert.Equal(t, q.Pred == q.Gold, q.Correct)
	}
	require.Len(t, r.PerCategory, 2)
	for _, want := range []string{"marketing", "astronomy", "STEM", "other", "overall"} {
		assert.Contains(t, table, want)
	}
}

// TestAdapter saves a LoRA adapter with random A and B on SmolLM2's q_proj and v_proj and checks that the command,
// which merges it, gives the logits of the unmerged adapted model, and that these differ from the base model's.
func TestAdapter(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model := reftest.SmolLM2(t)
	lm, err := nnllama.Load(model, nnllama.Options{})
	require.NoError(t, err)
	tok, err := tokenizer.Load(model)
	require.NoError(t, err)
	subjects, err := mmlu.Load(mmluDir(t), mmlu.LoadOptions{Split: "val", Subjects: []string{"marketing"}, Limit: 1})
	require.NoError(t, err)
	prompts, err := mmlu.BuildPrompts(subjects, tok, 0, 8192)
	require.NoError(t, err)
	choices, err := mmlu.ChoiceIDs(tok)
	require.NoError(t, err)
	rows := [][]int{prompts[0].IDs}
	base, err := mmlu.ChoiceLogits(lm, rows, choices, mmlu.BatchOptions{Batch: 1})
	require.NoError(t, err)

	cfg := loraplus.DefaultConfig("q_proj", "v_proj")
	cfg.Rank, cfg.Alpha = 2, 4
	m, err := loraplus.Wrap(lm, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.Params {
		nn.FillNormal(p.Tensor, rng, 0.05)
	}
	dir := t.TempDir()
	require.NoError(t, m.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: "SmolLM2-135M-Instruct"}))
	adapted, err := mmlu.ChoiceLogits(lm, rows, choices, mmlu.BatchOptions{Batch: 1})
	require.NoError(t, err)

	got, _ := runCmd(t, "-model", model, "-adapter", dir, "-data", mmluDir(t), "-split", "val", "-subjects", "marketing",
		"-limit", "1", "-shots", "0")
	require.Len(t, got.Results, 1)
	for i := range rows {
		for c := range 4 {
			assert.InDelta(t, adapted[i][c], got.Results[i].Logits[c], 1e-3, "question %d choice %d", i, c)
		}
	}
	assert.Greater(t, maxAbsDiff(base[0], adapted[0]), float32(1e-2), "the adapter should change the logits")
}

func maxAbsDiff(a, b [4]float32) float32 {
	var m float32
	for i := range a {
		m = max(m, a[i]-b[i], b[i]-a[i])
	}
	return m
}

// TestFlags checks the flag errors.
func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no model", nil, "-model is required"},
		{"split", []string{"-model", "m", "-split", "dev"}, "-split"},
		{"limit", []string{"-model", "m", "-limit", "-1"}, "-limit"},
		{"shots", []string{"-model", "m", "-shots", "-2"}, "-shots"},
		{"batch", []string{"-model", "m", "-batch", "0"}, "-batch"},
		{"pad", []string{"-model", "m", "-pad", "middle"}, "-pad"},
		{"threads", []string{"-model", "m", "-threads", "0"}, "-threads"},
		{"device", []string{"-model", "m", "-device", "tpu"}, "-device"},
		{"dtype", []string{"-model", "m", "-dtype", "int8"}, "-dtype"},
		{"extra", []string{"-model", "m", "x"}, "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, &bytes.Buffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	o, err := parseFlags([]string{"-model", "m", "-subjects", "anatomy, virology", "-pad", "left"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, []string{"anatomy", "virology"}, o.subjects)
	assert.True(t, o.padLeft)
	assert.Equal(t, 5, o.shots)
	assert.Equal(t, "out/mmlu/results.json", o.out)
}
