package mmlu_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// mmluShared returns a path under the shared data directory next to the repository.
func mmluShared(t *testing.T, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{reftest.Root(t), "..", "shared", "data"}, parts...)...)
}

// mmluRef is what scripts/reference/mmlu_llama_tiny.py writes.
type mmluRef struct {
	IDs          [][]int  `json:"ids"`
	ChoiceIDs    []int    `json:"choice_ids"`
	ChoicePieces []string `json:"choice_pieces"`
	Tied         mmluRefRun
	Untied       mmluRefRun
}

type mmluRefRun struct {
	Logits [][4]float32 `json:"logits"`
	Preds  []int        `json:"preds"`
}

// TestMMLUChoiceIDs checks the answer tokens: the last id of " A" … " D" is one token spelling a space and the
// letter, for the Llama-2 SentencePiece tokenizer (where " A" encodes to "▁", "▁A") and SmolLM2's byte-level BPE
// (where it is the single token "ĠA").
func TestMMLUChoiceIDs(t *testing.T) {
	tests := []struct {
		name   string
		load   func() (*tokenizer.Pipeline, error)
		ids    [4]int
		pieces [4]string
		tokens int // tokens of " A" without special tokens
	}{
		{"llama2", func() (*tokenizer.Pipeline, error) {
			return tokenizer.LoadSentencePiece(mmluShared(t, "tokenizers", "llama2", "tokenizer.model"))
		}, [4]int{319, 350, 315, 360}, [4]string{"▁A", "▁B", "▁C", "▁D"}, 2},
		{"smollm2", func() (*tokenizer.Pipeline, error) { return tokenizer.Load(reftest.SmolLM2(t)) },
			[4]int{330, 389, 340, 422}, [4]string{"ĠA", "ĠB", "ĠC", "ĠD"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.load()
			require.NoError(t, err)
			ids, err := mmlu.ChoiceIDs(tok)
			require.NoError(t, err)
			for i, id := range ids {
				piece, ok := tok.Token(id)
				require.True(t, ok)
				assert.Equal(t, tc.pieces[i], piece, "choice %s", mmlu.Letters[i])
			}
			assert.Equal(t, tc.ids, ids)
			assert.Len(t, tok.Encode(" A", false), tc.tokens)
			// the token after "Answer:" in a prompt is the choice token
			enc := tok.Encode("Answer: B", false)
			assert.Equal(t, ids[1], enc[len(enc)-1])
		})
	}
}

// TestMMLUParity evaluates two tiny random Llama models (tied and untied head, grouped-query attention) on real
// MMLU prompts tokenized with the Llama-2 tokenizer, and compares the prompt ids, the choice ids, the choice
// logits and the predictions with transformers' LlamaForCausalLM run on each prompt alone; batched runs with
// right and left padding must equal the unbatched one.
func TestMMLUParity(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tokPath, err := filepath.Abs(mmluShared(t, "tokenizers", "llama2", "tokenizer.model"))
	require.NoError(t, err)
	tok, err := tokenizer.LoadSentencePiece(tokPath)
	require.NoError(t, err)
	subjects, err := mmlu.Load(mmluShared(t, "mmlu"), mmlu.LoadOptions{
		Split: "val", Subjects: []string{"abstract_algebra", "high_school_us_history", "marketing"}, Limit: 2})
	require.NoError(t, err)
	const maxLen = 1024
	prompts, err := mmlu.BuildPrompts(subjects, tok, 5, maxLen)
	require.NoError(t, err)
	require.Len(t, prompts, 6)
	dropped := false
	rows := make([][]int, len(prompts))
	texts := make([]string, len(prompts))
	for i, p := range prompts {
		assert.LessOrEqual(t, len(p.IDs), maxLen)
		assert.Equal(t, tok.BOS(), p.IDs[0])
		dropped = dropped || p.Shots < 5
		rows[i], texts[i] = p.IDs, p.Text
	}
	assert.True(t, dropped, "some prompt should drop shots to fit %d tokens", maxLen)
	assert.Equal(t, 5, prompts[0].Shots)

	dir := t.TempDir()
	spec, err := json.Marshal(map[string]any{"tokenizer": tokPath, "texts": texts, "ids": rows})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prompts.json"), spec, 0o644))
	reftest.Run(t, "mmlu_llama_tiny.py", dir)
	raw, err := os.ReadFile(filepath.Join(dir, "ref.json"))
	require.NoError(t, err)
	var ref mmluRef
	require.NoError(t, json.Unmarshal(raw, &ref))

	require.Equal(t, ref.IDs, rows, "prompt ids differ from transformers' LlamaTokenizer")
	choices, err := mmlu.ChoiceIDs(tok)
	require.NoError(t, err)
	assert.Equal(t, ref.ChoiceIDs, choices[:])
	assert.Equal(t, []string{"▁A", "▁B", "▁C", "▁D"}, ref.ChoicePieces)

	for _, variant := range []struct {
		name string
		ref  mmluRefRun
	}{{"tied", ref.Tied}, {"untied", ref.Untied}} {
		lm, err := nnllama.Load(filepath.Join(dir, variant.name), nnllama.Options{})
		require.NoError(t, err)
		for _, bo := range []mmlu.BatchOptions{{Batch: 1}, {Batch: 4}, {Batch: 4, PadLeft: true}, {Batch: 6, PadLeft: true}} {
			got, err := mmlu.ChoiceLogits(lm, rows, choices, bo)
			require.NoError(t, err)
			for i := range rows {
				for c := range 4 {
					assert.InDelta(t, variant.ref.Logits[i][c], got[i][c], 1e-4, "%s batch %d left %v prompt %d choice %d",
						variant.name, bo.Batch, bo.PadLeft, i, c)
				}
				pred, err := mmlu.Predict(got[i][:])
				require.NoError(t, err)
				assert.Equal(t, variant.ref.Preds[i], pred, "%s batch %d prompt %d", variant.name, bo.Batch, i)
			}
		}
		rep, results, err := mmlu.Evaluate(lm, tok, subjects, mmlu.EvalOptions{Shots: 5, MaxLen: maxLen, Batch: 3})
		require.NoError(t, err)
		require.Len(t, results, len(prompts))
		correct := 0
		for i, r := range results {
			assert.Equal(t, variant.ref.Preds[i], r.Pred)
			assert.Equal(t, prompts[i].Question.AnswerIndex(), r.Gold)
			if r.Pred == r.Gold {
				correct++
			}
		}
		assert.Equal(t, 6, rep.Questions)
		assert.Equal(t, 3, rep.Subjects)
		assert.Equal(t, correct, rep.Correct)
	}
}

// TestMMLUBuildErrors checks the errors of bad settings and bad inputs.
func TestMMLUBuildErrors(t *testing.T) {
	tok, err := tokenizer.LoadSentencePiece(mmluShared(t, "tokenizers", "llama2", "tokenizer.model"))
	require.NoError(t, err)
	subjects, err := mmlu.Load(mmluShared(t, "mmlu"), mmlu.LoadOptions{Split: "val", Subjects: []string{"marketing"}, Limit: 1})
	require.NoError(t, err)
	tests := []struct {
		name   string
		shots  int
		maxLen int
		want   string
	}{
		{"no room", 5, 10, "does not fit in 10 tokens"},
		{"zero length", 5, 0, "want > 0"},
		{"too many shots", 6, 4096, "6 shots requested"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mmlu.BuildPrompts(subjects, tok, tc.shots, tc.maxLen)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
