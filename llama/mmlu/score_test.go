package mmlu

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCategoryTables(t *testing.T) {
	require.Len(t, Subcategories, 57)
	catOf := map[string]string{}
	for _, c := range Categories {
		for _, sc := range c.Subcategories {
			require.NotContains(t, catOf, sc, "subcategory %s in two categories", sc)
			catOf[sc] = c.Name
		}
	}
	assert.Len(t, catOf, 17)

	subjects := make([]string, 0, len(Subcategories))
	for s := range Subcategories {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	var order []string
	counts := map[string]int{}
	for _, s := range subjects {
		require.Len(t, Subcategories[s], 1, s)
		sc := Subcategories[s][0]
		require.Contains(t, catOf, sc, "%s: subcategory %s in no category", s, sc)
		if !contains(order, sc) {
			order = append(order, sc)
		}
		assert.Equal(t, []string{catOf[sc]}, SubjectCategories(s))
		counts[catOf[sc]]++
	}
	assert.Equal(t, order, SubcategoryOrder)
	assert.Equal(t, map[string]int{"STEM": 18, "humanities": 13, "social sciences": 12, "other": 14}, counts)
	assert.Nil(t, SubjectCategories("alchemy"))
}

func TestPredict(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		logits []float32
		want   int
		err    string
	}{
		{"max", []float32{0.1, 2, -1, 1.5}, 1, ""},
		{"last", []float32{-3, -2, -1, 0}, 3, ""},
		{"tie takes first", []float32{1, 5, 5, 0}, 1, ""},
		{"inf", []float32{1, 5, inf, 0}, 2, ""},
		{"nan", []float32{1, nan, 0, 0}, 0, "choice logit B is NaN"},
		{"three", []float32{1, 2, 3}, 0, "got 3 choice logits, want 4"},
		{"nil", nil, 0, "got 0 choice logits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Predict(tt.logits)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// scoredExample has abstract_algebra 1/1 right, anatomy 1/3, astronomy
// 0/2: micro 2/6 over questions, macro (1 + 1/3 + 0)/3 over subjects.
func scoredExample(t *testing.T) *Scorer {
	var s Scorer
	add := func(subject string, pred int, gold string) {
		logits := make([]float32, 4)
		logits[pred] = 1
		_, _, err := s.Add(subject, logits, gold)
		require.NoError(t, err)
	}
	add("abstract_algebra", 0, "A")
	add("anatomy", 1, "B")
	add("anatomy", 1, "C")
	add("anatomy", 0, "D")
	add("astronomy", 2, "A")
	add("astronomy", 2, "B")
	return &s
}

func TestScorerReport(t *testing.T) {
	r := scoredExample(t).Report()
	assert.InDelta(t, 2.0/6, r.Acc, 1e-12)
	assert.InDelta(t, (1+1.0/3+0)/3, r.MacroAcc, 1e-12)
	assert.Equal(t, 2, r.Correct)
	assert.Equal(t, 6, r.Questions)
	assert.Equal(t, 3, r.Subjects)

	require.Len(t, r.PerSubject, 3)
	assert.Equal(t, Score{Name: "anatomy", Correct: 1, Total: 3, Subjects: 1, Acc: 1.0 / 3, MacroAcc: 1.0 / 3}, r.PerSubject[1])

	// math (abstract_algebra), health (anatomy), physics (astronomy).
	names := func(scores []Score) []string {
		var out []string
		for _, s := range scores {
			out = append(out, s.Name)
		}
		return out
	}
	assert.Equal(t, []string{"math", "health", "physics"}, names(r.PerSubcategory))
	require.Equal(t, []string{"STEM", "other"}, names(r.PerCategory))
	stem := r.PerCategory[0]
	assert.Equal(t, 2, stem.Subjects)
	assert.Equal(t, 3, stem.Total)
	assert.InDelta(t, 1.0/3, stem.Acc, 1e-12, "category accuracy pools questions, as the reference does")
	assert.InDelta(t, 0.5, stem.MacroAcc, 1e-12)
}

func TestScorerAddErrors(t *testing.T) {
	var s Scorer
	_, _, err := s.Add("anatomy", []float32{1, 2, 3, 4}, "E")
	assert.ErrorContains(t, err, `gold answer "E"`)
	_, _, err = s.Add("anatomy", []float32{1, 2}, "A")
	assert.ErrorContains(t, err, "got 2 choice logits")
	assert.ErrorContains(t, err, "anatomy")
	pred, ok, err := s.Add("unlisted_subject", []float32{0, 0, 9, 0}, "C")
	require.NoError(t, err)
	assert.Equal(t, 2, pred)
	assert.True(t, ok)
	r := s.Report()
	assert.Equal(t, 1, r.Questions, "failed adds are not counted")
	assert.Empty(t, r.PerCategory, "a subject outside the MMLU table is in no category")
}

func TestEmptyReport(t *testing.T) {
	var s Scorer
	r := s.Report()
	assert.Zero(t, r.Questions)
	assert.Zero(t, r.Acc)
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	require.NoError(t, r.WriteTable(&buf))
}

func TestReportJSON(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, scoredExample(t).Report().WriteJSON(&buf))
	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	for _, key := range []string{"average_acc", "macro_acc", "correct", "questions", "subjects", "subject_acc", "subcat_acc", "cat_acc"} {
		assert.Contains(t, got, key)
	}
	assert.InDelta(t, 2.0/6, got["average_acc"], 1e-12)
	cats := got["cat_acc"].([]any)
	assert.Equal(t, "STEM", cats[0].(map[string]any)["name"])
}

func TestReportTable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, scoredExample(t).Report().WriteTable(&buf))
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	assert.Equal(t, "overall           subjects  questions  acc (micro)  acc (macro)", lines[0])
	assert.Equal(t, "all                      3          6       0.3333       0.4444", lines[1])
	assert.Contains(t, out, "\ncategory ")
	assert.Contains(t, out, "\nSTEM                     2          3       0.3333       0.5000\n")
	assert.Contains(t, out, "\nabstract_algebra         1          1       1.0000       1.0000\n")
	width := len(lines[0])
	for _, l := range lines {
		if l != "" {
			assert.Len(t, l, width, "row %q is not aligned", l)
		}
	}
}
