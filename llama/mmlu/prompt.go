package mmlu

import (
	"fmt"
	"strings"
)

// FormatSubject turns a subject name into the text used in the prompt
// header: every "_"-separated word preceded by a space, so
// "abstract_algebra" becomes " abstract algebra".
func FormatSubject(subject string) string {
	var b strings.Builder
	for _, w := range strings.Split(subject, "_") {
		b.WriteByte(' ')
		b.WriteString(w)
	}
	return b.String()
}

// PromptHeader is the first line of every MMLU prompt followed by a blank
// line. The reference formats "about {}." with [FormatSubject]'s output,
// which itself starts with a space, so the header has two spaces after
// "about": "... (with answers) about  abstract algebra.\n\n".
func PromptHeader(subject string) string {
	return "The following are multiple choice questions (with answers) about " + FormatSubject(subject) + ".\n\n"
}

// FormatQuestion renders one question as
// "question\nA. a\nB. b\nC. c\nD. d\nAnswer:", followed by " X\n\n" with the
// gold letter X when withAnswer is set (a few-shot example).
func FormatQuestion(q Question, withAnswer bool) string {
	var b strings.Builder
	writeQuestion(&b, q, withAnswer)
	return b.String()
}

func writeQuestion(b *strings.Builder, q Question, withAnswer bool) {
	b.WriteString(q.Question)
	for i, c := range q.Choices {
		b.WriteString("\n")
		b.WriteString(Letters[i])
		b.WriteString(". ")
		b.WriteString(c)
	}
	b.WriteString("\nAnswer:")
	if withAnswer {
		b.WriteString(" ")
		b.WriteString(q.Answer)
		b.WriteString("\n\n")
	}
}

// FewShotPrompt is the header followed by the first k dev examples with
// their answers. It fails when k is negative or exceeds len(dev).
func FewShotPrompt(subject string, dev []Question, k int) (string, error) {
	if k < 0 || k > len(dev) {
		return "", fmt.Errorf("mmlu: %s: %d shots requested, %d dev examples", subject, k, len(dev))
	}
	var b strings.Builder
	b.WriteString(PromptHeader(subject))
	for _, d := range dev[:k] {
		writeQuestion(&b, d, true)
	}
	return b.String(), nil
}

// BuildPrompt is the k-shot prompt for q: [FewShotPrompt] followed by q
// without its answer, so the prompt ends in "Answer:".
func BuildPrompt(subject string, dev []Question, q Question, k int) (string, error) {
	head, err := FewShotPrompt(subject, dev, k)
	if err != nil {
		return "", err
	}
	return head + FormatQuestion(q, false), nil
}

// TokenCountFunc returns the number of tokens text encodes to.
type TokenCountFunc func(text string) (int, error)

// FitPrompt builds the prompt for q with the largest number of shots k' <= k
// for which count(prompt) <= maxTokens, dropping shots from the end one at a
// time as the reference does. It returns the prompt and k'. It fails when
// even the zero-shot prompt does not fit, or when count fails.
func FitPrompt(subject string, dev []Question, q Question, k, maxTokens int, count TokenCountFunc) (string, int, error) {
	if count == nil {
		return "", 0, fmt.Errorf("mmlu: %s: nil token count function", subject)
	}
	for shots := k; shots >= 0; shots-- {
		prompt, err := BuildPrompt(subject, dev, q, shots)
		if err != nil {
			return "", 0, err
		}
		n, err := count(prompt)
		if err != nil {
			return "", 0, fmt.Errorf("mmlu: %s:%d: count tokens: %w", q.File, q.Line, err)
		}
		if n <= maxTokens {
			return prompt, shots, nil
		}
	}
	return "", 0, fmt.Errorf("mmlu: %s:%d: zero-shot prompt does not fit in %d tokens", q.File, q.Line, maxTokens)
}
