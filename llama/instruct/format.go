package instruct

import (
	"fmt"
	"strings"
)

// Role tags of open-instruct's chat layout; each is followed by the
// message content.
const (
	TagSystem    = "<|system|>\n"
	TagUser      = "<|user|>\n"
	TagAssistant = "<|assistant|>\n"
)

// MaskSpan is a byte range [Start, End) of [Formatted.Context] whose tokens
// get no loss. The encoder finds its token range the way the reference
// does: by tokenizing the prefixes Context[:Start] and Context[:End] on
// their own (a Start of 0 is token 0 without tokenizing).
type MaskSpan struct {
	Start, End int
}

// Formatted is an example laid out as training text.
type Formatted struct {
	// Text is the full training text, tokenized as one sequence.
	Text string
	// Prompt is the leading part of Text that gets no loss (everything up to
	// the first trained character) and Target the rest: Text == Prompt+Target.
	Prompt string
	Target string
	// Context is the text the Masked offsets refer to. Text is a prefix of
	// it: for a chat record Context keeps the trailing whitespace that Text
	// has stripped.
	Context string
	// Masked are the spans with no loss, in order.
	Masked []MaskSpan
	// File and Line locate the source record, for error messages.
	File string
	Line int
}

// Format lays out an example as open-instruct's finetune.py does, with eos
// the tokenizer's end-of-sequence token text (e.g. "</s>").
//
// A prompt/completion record becomes prompt + completion + eos, with a
// space between the two when the prompt does not end and the completion
// does not start with a space, newline or tab
// (encode_with_prompt_completion_format); the prompt is masked.
//
// A chat record becomes, for each message, "<|system|>\n", "<|user|>\n" or
// "<|assistant|>\n", the content stripped of surrounding whitespace, eos
// after assistant contents, and "\n"; the whole is stripped
// (encode_with_messages_format). Every non-assistant message is masked,
// together with the "<|assistant|>\n" tag that follows it.
func Format(ex Example, eos string) (Formatted, error) {
	if ex.IsChat() {
		return formatMessages(ex, eos)
	}
	sep := ""
	if !endsWithBlank(ex.Prompt) && !startsWithBlank(ex.Completion) {
		sep = " "
	}
	text := ex.Prompt + sep + ex.Completion + eos
	return Formatted{
		Text:    text,
		Prompt:  ex.Prompt,
		Target:  text[len(ex.Prompt):],
		Context: text,
		Masked:  []MaskSpan{{0, len(ex.Prompt)}},
		File:    ex.File,
		Line:    ex.Line,
	}, nil
}

func endsWithBlank(s string) bool {
	return s != "" && strings.ContainsRune(" \n\t", rune(s[len(s)-1]))
}

func startsWithBlank(s string) bool {
	return s != "" && strings.ContainsRune(" \n\t", rune(s[0]))
}

func formatMessages(ex Example, eos string) (Formatted, error) {
	msgs := ex.Messages
	if len(msgs) == 0 {
		return Formatted{}, fmt.Errorf("%s:%d: messages: empty", ex.File, ex.Line)
	}
	var b strings.Builder
	ends := make([]int, len(msgs))
	for i, m := range msgs {
		switch m.Role {
		case RoleSystem:
			b.WriteString(TagSystem + pyStrip(m.Content) + "\n")
		case RoleUser:
			b.WriteString(TagUser + pyStrip(m.Content) + "\n")
		case RoleAssistant:
			b.WriteString(TagAssistant + pyStrip(m.Content) + eos + "\n")
		default:
			return Formatted{}, fmt.Errorf("%s:%d: messages[%d].role: invalid role %q", ex.File, ex.Line, i, m.Role)
		}
		ends[i] = b.Len()
	}
	f := Formatted{Context: b.String(), File: ex.File, Line: ex.Line}
	// The reference strips the whole text; it starts with a tag, so only
	// its end can change and Text stays a prefix of Context.
	f.Text = strings.TrimRightFunc(f.Context, pyIsSpace)
	start := 0
	for i, m := range msgs {
		if m.Role != RoleAssistant {
			end := ends[i]
			if i+1 < len(msgs) && msgs[i+1].Role == RoleAssistant {
				end += len(TagAssistant)
			}
			f.Masked = append(f.Masked, MaskSpan{start, end})
		}
		start = ends[i]
	}
	promptEnd := 0
	for _, s := range f.Masked {
		if s.Start > promptEnd {
			break
		}
		promptEnd = max(promptEnd, s.End)
	}
	promptEnd = min(promptEnd, len(f.Text))
	f.Prompt, f.Target = f.Text[:promptEnd], f.Text[promptEnd:]
	return f, nil
}
