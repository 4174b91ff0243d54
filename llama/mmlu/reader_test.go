package mmlu

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMMLUSplitCounts reads every file of the shared MMLU data. This copy is
// the first public release (hendrycks/test at 785eba5): 57 subjects in each
// split, exactly 5 dev rows per subject, and 1,542 val and 14,079 test rows
// (the later release has 1,531 and 14,042).
func TestMMLUSplitCounts(t *testing.T) {
	root := mmluDir(t)
	tests := []struct {
		split      string
		total      int
		perSubject int // 0: not fixed
	}{
		{"dev", 285, 5},
		{"val", 1542, 0},
		{"test", 14079, 0},
	}
	for _, tt := range tests {
		t.Run(tt.split, func(t *testing.T) {
			subjects, err := ListSubjects(root, tt.split)
			require.NoError(t, err)
			require.Len(t, subjects, 57)
			total := 0
			for _, s := range subjects {
				qs, err := ReadQuestionsFile(filepath.Join(root, tt.split, s+"_"+tt.split+".csv"), s)
				require.NoError(t, err, s)
				require.NotEmpty(t, qs, s)
				if tt.perSubject > 0 {
					assert.Len(t, qs, tt.perSubject, s)
				}
				for _, q := range qs {
					assert.Equal(t, s, q.Subject)
					assert.GreaterOrEqual(t, q.AnswerIndex(), 0)
					assert.Positive(t, q.Line)
				}
				total += len(qs)
			}
			assert.Equal(t, tt.total, total)
		})
	}
}

func TestMMLUKnownRows(t *testing.T) {
	root := mmluDir(t)
	tests := []struct {
		file     string
		index    int
		line     int
		question string
		choices  [4]string
		answer   string
	}{
		{"dev/abstract_algebra_dev.csv", 0, 1, "Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.", [4]string{"0", "1", "2", "3"}, "B"},
		{"dev/abstract_algebra_dev.csv", 1, 2, "Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.", [4]string{"True, True", "False, False", "True, False", "False, True"}, "B"},
		{"val/college_medicine_val.csv", 5, 6, "Which of the following would be the most accurate definition of Nietzsche’s Will to Truth?\"", [4]string{"An intrinsic desire to know the truth.", "Moral drive to act toward what is good.", "A subset of our ego that acts towards what is right.", "Our desire for love."}, "A"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			qs, err := ReadQuestionsFile(filepath.Join(root, tt.file), "s")
			require.NoError(t, err)
			q := qs[tt.index]
			assert.Equal(t, tt.line, q.Line)
			assert.Equal(t, tt.question, q.Question)
			assert.Equal(t, tt.choices, q.Choices)
			assert.Equal(t, tt.answer, q.Answer)
		})
	}
	qs, err := ReadQuestionsFile(filepath.Join(root, "test", "college_mathematics_test.csv"), "college_mathematics")
	require.NoError(t, err)
	assert.Equal(t, 9, qs[8].Line)
	assert.Equal(t, "nan", qs[8].Choices[0], "a choice \"None\" is NaN to pandas, printed \"nan\" by the original evaluator")
	qs, err = ReadQuestionsFile(filepath.Join(root, "dev", "college_mathematics_dev.csv"), "college_mathematics")
	require.NoError(t, err)
	assert.True(t, strings.Contains(qs[2].Question, "must be true?\r\nI. All"), "\\r\\n inside a quoted field is kept: %q", qs[2].Question)
}

func TestReadQuestionsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  string
		key  string
		line int
	}{
		{"too few fields", "q,a,b,c,d,A\nq,a,b,c,A\n", "got 5 fields, want 6", "", 2},
		{"too many fields", "q,a,b,c,d,e,A\n", "got 7 fields, want 6", "", 1},
		{"bad answer", "q,a,b,c,d,A\n\"multi\nline\",a,b,c,d,E\n", "answer: want one of A, B, C, D, got \"E\"", "answer", 2},
		{"lower-case answer", "q,a,b,c,d,a\n", "got \"a\"", "answer", 1},
		{"answer with space", "q,a,b,c,d, A\n", "got \" A\"", "answer", 1},
		{"unterminated quote", "q,a,b,c,d,A\n\"q,a,b,c,d,A\n", "quoted field not closed", "", 2},
		{"stray quote", "\"q\"x,a,b,c,d,A\n", "closing quote", "", 1},
		{"invalid utf8", "q,a,b,c,d,A\nq\xfe,a,b,c,d,A\n", "invalid UTF-8", "", 2},
		{"NA answer", "q,a,b,c,d,A\nq,a,b,c,d,None\n", "got \"None\"", "answer", 2},
		{"more rows than a pandas chunk", strings.Repeat("q,a,b,c,d,A\n", pandasChunkRows+1), "more than 131072 rows", "", pandasChunkRows + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadQuestions(strings.NewReader(tt.in), "x_test.csv", "x")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			var le *LineError
			require.True(t, errors.As(err, &le), "want a *LineError, got %T", err)
			assert.Equal(t, "x_test.csv", le.File)
			assert.Equal(t, tt.line, le.Line)
			assert.Equal(t, tt.key, le.Key)
			assert.True(t, strings.HasPrefix(err.Error(), "x_test.csv:"), err.Error())
		})
	}
}

func TestReadQuestionsMissingFile(t *testing.T) {
	_, err := ReadQuestionsFile(filepath.Join(t.TempDir(), "nope_test.csv"), "nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope_test.csv")
}
