package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
)

// chatConversations are the conversations of the chat template parity test: one turn, a system prompt, several
// turns, and text with unicode, template-like braces, quotes and trailing whitespace.
var chatConversations = [][]Message{
	{{Role: "user", Content: "Hello!"}},
	{{Role: "system", Content: "You are terse."}, {Role: "user", Content: "What is 2+2?"}},
	{{Role: "user", Content: "Hi"}, {Role: "assistant", Content: "Hello! How can I help?"},
		{Role: "user", Content: "Tell me a joke.\nMake it short."}},
	{{Role: "user", Content: "Ünïcödé ✓ 日本語 {{ braces }} {% tag %} \"quotes\" 'single'  trailing  \n\n"}},
}

// chatSynthetic exercises what the real templates lean on: trim_blocks and lstrip_blocks, whitespace control,
// loop variables, namespace, filters, string methods, slicing and raise_exception (for a "tool" role).
const chatSynthetic = `{{ bos_token }}
{%- set ns = namespace(n=0) %}
{% for m in messages %}
    {% if m.role not in ['system', 'user', 'assistant'] %}
        {{ raise_exception('unknown role ' + m.role) }}
    {% endif %}
    {% set ns.n = ns.n + 1 %}
[{{ loop.index }}/{{ loop.length }}] {{ m.role | upper }}: {{ m.content.strip() }}{% if not loop.last %} |{% endif %}

{% endfor %}
{%- if add_generation_prompt -%}
<{{ messages[-1].role[:1] }}{{ ns.n }}> {{ messages | map(attribute='role') | join(',') }} {{ {'k': 1} | tojson }}
{%- endif %}
{{ eos_token }}`

// TestChatTemplatesMatchTransformers renders real chat templates (SmolLM2's from its GGUF, Llama 3.1's, Qwen3's and
// DeepSeek-V3's from tokenizer_config.json) and a synthetic one on every conversation, with and without the
// generation prompt, and compares the text with transformers' apply_chat_template renderer.
func TestChatTemplatesMatchTransformers(t *testing.T) {
	type source struct {
		name string
		path string
	}
	sources := []source{
		{"smollm2", reftest.SmolLM2(t)},
		{"llama3", assetPath(t, "llama3")},
		{"qwen3", assetPath(t, "qwen3")},
		{"deepseek-v3", assetPath(t, "deepseek-v3")},
	}
	type tcase struct {
		name     string
		tmpl     *ChatTemplate
		messages []Message
		addGen   bool
		vars     map[string]any
	}
	var cases []tcase
	add := func(name string, tmpl *ChatTemplate, vars map[string]any, convs [][]Message) {
		for i, msgs := range convs {
			for _, addGen := range []bool{false, true} {
				cases = append(cases, tcase{name: name + "/" + string(rune('a'+i)), tmpl: tmpl, messages: msgs, addGen: addGen, vars: vars})
			}
		}
	}
	for _, s := range sources {
		tmpl, err := LoadChatTemplate(s.path)
		require.NoError(t, err, s.name)
		require.NotNil(t, tmpl, "%s has a chat template", s.name)
		tok, err := Load(s.path)
		require.NoError(t, err, s.name)
		add(s.name, tmpl, SpecialTokenVars(tok), chatConversations)
	}
	synth, err := ParseChatTemplate("synthetic", chatSynthetic)
	require.NoError(t, err)
	tool := []Message{{Role: "user", Content: "x"}, {Role: "tool", Content: "y"}}
	add("synthetic", synth, map[string]any{"bos_token": "<s>", "eos_token": "</s>"}, append(chatConversations, tool))

	type refCase struct {
		Template string         `json:"template"`
		Messages []Message      `json:"messages"`
		AddGen   bool           `json:"add_generation_prompt"`
		Vars     map[string]any `json:"vars"`
	}
	req := struct {
		Cases []refCase `json:"cases"`
	}{}
	for _, c := range cases {
		req.Cases = append(req.Cases, refCase{c.tmpl.Source, c.messages, c.addGen, c.vars})
	}
	data, err := json.Marshal(req)
	require.NoError(t, err)
	in := filepath.Join(t.TempDir(), "req.json")
	require.NoError(t, os.WriteFile(in, data, 0o644))
	var want []struct {
		Text  *string `json:"text"`
		Error string  `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "chat_render.py", in)), &want))
	require.Len(t, want, len(cases))
	errors := 0
	for i, c := range cases {
		got, err := c.tmpl.Render(c.messages, c.addGen, c.vars)
		if want[i].Text == nil {
			require.Error(t, err, "%s (generation prompt %v): transformers raised %q", c.name, c.addGen, want[i].Error)
			require.Contains(t, err.Error(), "unknown role tool")
			errors++
			continue
		}
		require.NoError(t, err, "%s (generation prompt %v)", c.name, c.addGen)
		require.Equal(t, *want[i].Text, got, "%s (generation prompt %v)", c.name, c.addGen)
	}
	require.Equal(t, 2, errors, "the synthetic template raises on the tool role, with and without the generation prompt")
}

// TestLoadChatTemplate reads templates from each place a model keeps one and reports bad files by name.
func TestLoadChatTemplate(t *testing.T) {
	dir := t.TempDir()
	write := func(sub, name, content string) string {
		d := filepath.Join(dir, sub)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, name), []byte(content), 0o644))
		return d
	}
	jinjaDir := write("jinja", "chat_template.jinja", "J{{ messages[0].content }}")
	write("jinja", "tokenizer_config.json", `{"chat_template": "C{{ messages[0].content }}"}`)
	tests := []struct {
		name    string
		path    string
		want    string // rendered for one user message "m"; "" for no template
		wantErr string
	}{
		{"jinja file wins over tokenizer_config.json", jinjaDir, "Jm", ""},
		{"string", write("str", "tokenizer_config.json", `{"chat_template": "S{{ messages[0].content }}"}`), "Sm", ""},
		{"named list", write("list", "tokenizer_config.json",
			`{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ messages[0].content }}"}]}`), "Dm", ""},
		{"null", write("null", "tokenizer_config.json", `{"chat_template": null}`), "", ""},
		{"absent", write("absent", "tokenizer_config.json", `{"bos_token": "<s>"}`), "", ""},
		{"no config", write("none", "tokenizer.json", `{}`), "", ""},
		{"list without default", write("nodefault", "tokenizer_config.json", `{"chat_template": [{"name": "rag", "template": "R"}]}`),
			"", `none is "default"`},
		{"bad json", write("badjson", "tokenizer_config.json", `{"chat_template": `), "", "tokenizer_config.json"},
		{"bad template", write("badtmpl", "tokenizer_config.json", `{"chat_template": "{% for m in messages %}"}`), "",
			"tokenizer_config.json: chat_template: "},
		{"not a model", write("file", "plain.txt", "x") + "/plain.txt", "", "plain.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := LoadChatTemplate(tc.path)
			if tc.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				require.Nil(t, tmpl)
				return
			}
			got, err := tmpl.Render([]Message{{Role: "user", Content: "m"}}, true, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, strings.TrimSpace(got))
		})
	}
}
