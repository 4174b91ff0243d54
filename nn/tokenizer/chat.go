package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ardanlabs/jinja"

	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// ChatTemplate is a model's chat template: the Jinja program that lays a conversation out in the tokens the model
// was tuned on (Hugging Face's tokenizer.chat_template). Rendering uses github.com/ardanlabs/jinja, a Jinja
// engine written for the templates that GGUF files and Hugging Face tokenizers carry, with Hugging Face's globals
// (raise_exception, strftime_now) and its whitespace rules (trim_blocks, lstrip_blocks).
type ChatTemplate struct {
	Source string // the template text
	origin string // where it was read, for errors
	tmpl   *jinja.Template
}

// ParseChatTemplate compiles a chat template; origin names its source in errors.
func ParseChatTemplate(origin, source string) (*ChatTemplate, error) {
	t, err := jinja.Compile(source)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: chat template: %w", origin, err)
	}
	return &ChatTemplate{Source: source, origin: origin, tmpl: t}, nil
}

// LoadChatTemplate reads the chat template of a model: the tokenizer.chat_template metadata of a GGUF file, or
// in a Hugging Face directory chat_template.jinja (what transformers 5 saves) or the chat_template of
// tokenizer_config.json (a string, or a list of named templates of which "default" is taken). It returns nil and
// no error when the model has none.
func LoadChatTemplate(path string) (*ChatTemplate, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if !gguf.IsFile(path) {
			return nil, fmt.Errorf("tokenizer: %s: neither a model directory nor a GGUF file", path)
		}
		f, err := gguf.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if !f.Has("tokenizer.chat_template") {
			return nil, nil
		}
		src, err := f.String("tokenizer.chat_template")
		if err != nil {
			return nil, err
		}
		return ParseChatTemplate(path+": tokenizer.chat_template", src)
	}
	jinjaPath := filepath.Join(path, "chat_template.jinja")
	if b, err := os.ReadFile(jinjaPath); err == nil {
		return ParseChatTemplate(jinjaPath, string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	cfgPath := filepath.Join(path, "tokenizer_config.json")
	b, err := os.ReadFile(cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", cfgPath, err)
	}
	if len(cfg.ChatTemplate) == 0 || isNull(cfg.ChatTemplate) {
		return nil, nil
	}
	var src string
	if json.Unmarshal(cfg.ChatTemplate, &src) != nil {
		var named []struct {
			Name     string `json:"name"`
			Template string `json:"template"`
		}
		if err := json.Unmarshal(cfg.ChatTemplate, &named); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: chat_template: want a string or a list of {name, template}: %w", cfgPath, err)
		}
		found := false
		for _, n := range named {
			if n.Name == "default" {
				src, found = n.Template, true
			}
		}
		if !found {
			return nil, fmt.Errorf("tokenizer: %s: chat_template: %d named templates and none is \"default\"", cfgPath, len(named))
		}
	}
	return ParseChatTemplate(cfgPath+": chat_template", src)
}

// Render lays out messages as the model expects them. With addGenerationPrompt the text ends with the opening
// of an assistant turn, for the model to continue. vars are further template variables; Hugging Face passes the
// tokenizer's special tokens (see SpecialTokenVars), which some templates use (bos_token).
func (c *ChatTemplate) Render(messages []Message, addGenerationPrompt bool, vars map[string]any) (string, error) {
	msgs := make([]any, len(messages))
	for i, m := range messages {
		msgs[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	data := map[string]any{}
	for k, v := range vars {
		data[k] = v
	}
	data["messages"] = msgs
	data["add_generation_prompt"] = addGenerationPrompt
	out, err := c.tmpl.Render(data)
	if err != nil {
		return "", fmt.Errorf("tokenizer: %s: rendering the chat template: %w", c.origin, err)
	}
	return out, nil
}

// SpecialTokenVars returns the special tokens of t as the template variables Hugging Face passes to a chat
// template: bos_token, eos_token and unk_token, each where t has one.
func SpecialTokenVars(t Tokenizer) map[string]any {
	vars := map[string]any{}
	for name, id := range map[string]int{"bos_token": t.BOS(), "eos_token": t.EOS(), "unk_token": t.UNK()} {
		if s, ok := t.Token(id); ok && id != NoToken {
			vars[name] = s
		}
	}
	return vars
}
