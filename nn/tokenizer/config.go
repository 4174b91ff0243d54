package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tokenizerConfig is what this package reads from tokenizer_config.json and special_tokens_map.json.
type tokenizerConfig struct {
	class    string
	specials map[string]*string // "bos_token" etc.; a nil value is an explicit null
	addBOS   *bool
	addEOS   *bool
}

var specialKeys = []string{"bos_token", "eos_token", "pad_token", "unk_token"}

// readTokenizerConfig reads the two files from dir; it returns nil when neither exists.
func readTokenizerConfig(dir string) (*tokenizerConfig, error) {
	var cfg *tokenizerConfig
	for _, file := range []string{"tokenizer_config.json", "special_tokens_map.json"} {
		path := filepath.Join(dir, file)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if cfg == nil {
			cfg = &tokenizerConfig{specials: map[string]*string{}}
		}
		for _, k := range specialKeys {
			v, ok := raw[k]
			if !ok {
				continue
			}
			tok, err := specialTokenValue(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, k, err)
			}
			cfg.specials[k] = tok
		}
		if v, ok := raw["tokenizer_class"]; ok {
			_ = json.Unmarshal(v, &cfg.class)
		}
		for key, dst := range map[string]**bool{"add_bos_token": &cfg.addBOS, "add_eos_token": &cfg.addEOS} {
			if v, ok := raw[key]; ok {
				var b bool
				if err := json.Unmarshal(v, &b); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", path, key, err)
				}
				*dst = &b
			}
		}
	}
	return cfg, nil
}

// specialTokenValue reads "tok", {"content": "tok", ...} or null.
func specialTokenValue(v json.RawMessage) (*string, error) {
	if isNull(v) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return &s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, errors.New("want a string, {\"content\": ...} or null")
	}
	return &obj.Content, nil
}

// llamaClasses are the tokenizer classes whose fast implementation rebuilds the post-processor from
// add_bos_token/add_eos_token.
var llamaClasses = map[string]bool{"LlamaTokenizer": true, "LlamaTokenizerFast": true,
	"CodeLlamaTokenizer": true, "CodeLlamaTokenizerFast": true, "GemmaTokenizer": true, "GemmaTokenizerFast": true}

// resolveSpecials fills the bos/eos/pad/unk ids of parts from cfg, or else from the post-processor's
// cls/sep and the usual token names, and applies the Llama post-processor settings.
func resolveSpecials(parts *pipelineParts, cfg *tokenizerConfig, lookup func(string) (int, bool), cls, sep int) error {
	guess := func(names ...string) int {
		for _, n := range names {
			if id, ok := lookup(n); ok {
				return id
			}
		}
		return NoToken
	}
	parts.bos, parts.eos = cls, sep
	if parts.bos == NoToken {
		for _, p := range parts.post.single {
			if len(p.ids) > 0 {
				parts.bos = p.ids[0]
				break
			}
		}
	}
	if parts.bos == NoToken {
		parts.bos = guess("<s>", "<|endoftext|>", "<|begin_of_text|>")
	}
	if parts.eos == NoToken {
		parts.eos = guess("</s>", "<|endoftext|>", "<|end_of_text|>")
	}
	parts.pad = guess("<pad>", "[PAD]")
	if parts.unk == NoToken {
		parts.unk = guess("<unk>", "[UNK]")
	}
	if cfg == nil {
		return nil
	}
	dst := map[string]*int{"bos_token": &parts.bos, "eos_token": &parts.eos, "pad_token": &parts.pad,
		"unk_token": &parts.unk}
	for _, k := range specialKeys {
		v, ok := cfg.specials[k]
		if !ok {
			continue
		}
		if v == nil {
			*dst[k] = NoToken
			continue
		}
		id, found := lookup(*v)
		if !found {
			return fmt.Errorf("%s %q is not in the vocabulary", k, *v)
		}
		*dst[k] = id
	}
	if llamaClasses[cfg.class] {
		addBOS, addEOS := true, false
		if cfg.addBOS != nil {
			addBOS = *cfg.addBOS
		}
		if cfg.addEOS != nil {
			addEOS = *cfg.addEOS
		}
		if (addBOS && parts.bos == NoToken) || (addEOS && parts.eos == NoToken) {
			return errors.New("add_bos_token/add_eos_token set but bos_token/eos_token missing")
		}
		parts.post = llamaTemplate(parts.bos, parts.eos, addBOS, addEOS)
	}
	return nil
}
