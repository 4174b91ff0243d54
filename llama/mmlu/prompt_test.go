package mmlu

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abstract_algebra", " abstract algebra"},
		{"virology", " virology"},
		{"high_school_government_and_politics", " high school government and politics"},
		{"", " "},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, FormatSubject(tt.in))
		})
	}
}

func sampleQuestion(q, answer string) Question {
	return Question{Question: q, Choices: [4]string{q + "1", q + "2", q + "3", q + "4"}, Answer: answer}
}

func TestBuildPrompt(t *testing.T) {
	dev := []Question{sampleQuestion("d1", "B"), sampleQuestion("d2", "D")}
	q := sampleQuestion("Q, with \"quotes\"\nand a newline?", "A")
	header := "The following are multiple choice questions (with answers) about  test subject.\n\n"
	shot1 := "d1\nA. d11\nB. d12\nC. d13\nD. d14\nAnswer: B\n\n"
	shot2 := "d2\nA. d21\nB. d22\nC. d23\nD. d24\nAnswer: D\n\n"
	end := q.Question + "\nA. " + q.Choices[0] + "\nB. " + q.Choices[1] + "\nC. " + q.Choices[2] + "\nD. " + q.Choices[3] + "\nAnswer:"
	tests := []struct {
		k    int
		want string
		err  string
	}{
		{0, header + end, ""},
		{1, header + shot1 + end, ""},
		{2, header + shot1 + shot2 + end, ""},
		{3, "", "3 shots requested, 2 dev examples"},
		{-1, "", "-1 shots requested"},
	}
	for _, tt := range tests {
		got, err := BuildPrompt("test_subject", dev, q, tt.k)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "k=%d", tt.k)
	}
	assert.Equal(t, shot1, FormatQuestion(dev[0], true))
}

func TestFitPrompt(t *testing.T) {
	dev := []Question{sampleQuestion("first", "A"), sampleQuestion("second", "B"), sampleQuestion("third", "C")}
	q := sampleQuestion("question", "D")
	size := func(k int) int {
		p, err := BuildPrompt("s", dev, q, k)
		require.NoError(t, err)
		return len(p)
	}
	byteCount := func(s string) (int, error) { return len(s), nil }
	tests := []struct {
		name      string
		k, budget int
		count     TokenCountFunc
		shots     int
		err       string
	}{
		{"all fit", 3, size(3), byteCount, 3, ""},
		{"one byte short drops a shot", 3, size(3) - 1, byteCount, 2, ""},
		{"only zero-shot fits", 3, size(0), byteCount, 0, ""},
		{"k below available", 1, 1 << 20, byteCount, 1, ""},
		{"nothing fits", 3, size(0) - 1, byteCount, 0, "zero-shot prompt does not fit"},
		{"count fails", 3, 100, func(string) (int, error) { return 0, errors.New("boom") }, 0, "count tokens: boom"},
		{"nil count", 3, 100, nil, 0, "nil token count function"},
		{"too many shots", 4, 1 << 20, byteCount, 0, "4 shots requested, 3 dev examples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, shots, err := FitPrompt("s", dev, q, tt.k, tt.budget, tt.count)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.shots, shots)
			want, err := BuildPrompt("s", dev, q, tt.shots)
			require.NoError(t, err)
			assert.Equal(t, want, p)
		})
	}
}
