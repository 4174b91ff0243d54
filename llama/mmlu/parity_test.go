package mmlu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullPromptSubjects get their first prompts compared byte for byte: they
// cover quoted commas, embedded newlines, \r\n inside quoted fields
// (college_mathematics' dev shots), long passages and a three-word subject.
var fullPromptSubjects = []string{"abstract_algebra", "college_mathematics", "high_school_european_history", "professional_law", "us_foreign_policy"}

const parityMaxBytes = 6000

// TestMMLUPromptParity compares the Go reader and prompt builder with
// scripts/reference/mmlu_prompts.py, which reads the files with pandas and
// builds the prompts as the original evaluator (hendrycks/test evaluate.py)
// does, on all of the shared data: the formatted cells of every file of
// every split, the 5-shot prompt of every question of every split, full
// prompt texts for a few subjects, and the shots kept by FitPrompt under a
// byte budget.
func TestMMLUPromptParity(t *testing.T) {
	root := mmluDir(t)
	out := runReference(t, "mmlu_prompts.py", "--data_dir", root, "--ntrain", "5",
		"--full_subjects", strings.Join(fullPromptSubjects, ","), "--full_n", "2",
		"--max_bytes", "6000")
	var ref struct {
		Files   map[string]string   `json:"files"`
		Prompts map[string][]string `json:"prompts"`
		Full    map[string][]string `json:"full"`
		Fit     map[string][][2]any `json:"fit"`
	}
	require.NoError(t, json.Unmarshal(out, &ref))
	require.Len(t, ref.Files, 3*57)
	require.Len(t, ref.Prompts, 3*57)

	for key, want := range ref.Files {
		qs, err := ReadQuestionsFile(filepath.Join(root, key), "s")
		require.NoError(t, err)
		assert.Equal(t, want, fieldsDigest(qs), key)
	}

	byteCount := func(s string) (int, error) { return len(s), nil }
	prompts := 0
	for _, split := range []string{"dev", "val", "test"} {
		subjects, err := Load(root, LoadOptions{Split: split})
		require.NoError(t, err)
		require.Len(t, subjects, 57)
		for _, s := range subjects {
			key := split + "/" + s.Name
			require.Len(t, ref.Prompts[key], len(s.Questions), key)
			for i, q := range s.Questions {
				p, err := BuildPrompt(s.Name, s.Dev, q, 5)
				require.NoError(t, err)
				prompts++
				assert.Equal(t, ref.Prompts[key][i], sha(p), "%s question %d (%s:%d)", key, i, q.File, q.Line)
				if split != "test" {
					continue
				}
				if i < len(ref.Full[s.Name]) {
					assert.Equal(t, ref.Full[s.Name][i], p)
				}
				fit, k, err := FitPrompt(s.Name, s.Dev, q, 5, parityMaxBytes, byteCount)
				require.NoError(t, err)
				assert.Equal(t, ref.Fit[s.Name][i][0], float64(k), "%s question %d", s.Name, i)
				assert.Equal(t, ref.Fit[s.Name][i][1], sha(fit), "%s question %d", s.Name, i)
			}
		}
	}
	assert.Equal(t, 285+1542+14079, prompts, "prompts compared (dev, val, test)")
	for _, s := range fullPromptSubjects {
		assert.Len(t, ref.Full[s], 2, s)
	}
	assert.Contains(t, ref.Full["college_mathematics"][0], "\r\n", "the college_mathematics dev shots keep their \\r\\n")
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// fieldsDigest hashes parsed rows as mmlu_prompts.py does: each field
// followed by 0x1f, each row by 0x1e.
func fieldsDigest(qs []Question) string {
	h := sha256.New()
	for _, q := range qs {
		for _, f := range []string{q.Question, q.Choices[0], q.Choices[1], q.Choices[2], q.Choices[3], q.Answer} {
			h.Write([]byte(f + "\x1f"))
		}
		h.Write([]byte{0x1e})
	}
	return hex.EncodeToString(h.Sum(nil))
}
