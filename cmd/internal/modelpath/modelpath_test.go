package modelpath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snap makes a cached snapshot folder repo/snapshots/rev holding config.json (unless bare), aged by age.
func snap(t *testing.T, cache, repo, rev string, age time.Duration, bare bool) string {
	t.Helper()
	dir := filepath.Join(cache, repo, "snapshots", rev)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	if !bare {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644))
	}
	when := time.Now().Add(-age)
	require.NoError(t, os.Chtimes(dir, when, when))
	return dir
}

func ref(t *testing.T, cache, repo, rev string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(cache, repo, "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cache, repo, "refs", "main"), []byte(rev+"\n"), 0o644))
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model string
		env   func(root string) map[string]string // root: a fresh folder; cwd is root/work
		setup func(t *testing.T, root string) string
		err   string
	}{
		{"an existing path is kept", "work/m", nil, func(t *testing.T, root string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(root, "work", "work", "m"), 0o755))
			return "work/m"
		}, ""},
		{"models/NAME, where download.sh is told to write", "gpt2", nil, func(t *testing.T, root string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(root, "work", "models", "gpt2"), 0o755))
			return filepath.Join("models", "gpt2")
		}, ""},
		{"HF_HUB_CACHE, refs/main picks the revision", "gpt2", func(r string) map[string]string {
			return map[string]string{"HF_HUB_CACHE": filepath.Join(r, "c"), "HF_HOME": filepath.Join(r, "h")}
		}, func(t *testing.T, root string) string {
			c := filepath.Join(root, "c")
			snap(t, c, "models--gpt2", "newer", 0, false)
			ref(t, c, "models--gpt2", "abc")
			return snap(t, c, "models--gpt2", "abc", time.Hour, false)
		}, ""},
		{"HF_HOME/hub, no refs/main: the newest snapshot", "gpt2", func(r string) map[string]string {
			return map[string]string{"HF_HOME": filepath.Join(r, "h"), "HOME": filepath.Join(r, "home")}
		}, func(t *testing.T, root string) string {
			c := filepath.Join(root, "h", "hub")
			snap(t, c, "models--gpt2", "old", time.Hour, false)
			return snap(t, c, "models--gpt2", "new", time.Minute, false)
		}, ""},
		{"~/.cache/huggingface/hub", "roberta-base", func(r string) map[string]string {
			return map[string]string{"HOME": filepath.Join(r, "home")}
		}, func(t *testing.T, root string) string {
			return snap(t, filepath.Join(root, "home", ".cache", "huggingface", "hub"), "models--roberta-base", "r1", 0, false)
		}, ""},
		{"XDG_CACHE_HOME", "gpt2", func(r string) map[string]string {
			return map[string]string{"XDG_CACHE_HOME": filepath.Join(r, "x"), "HOME": filepath.Join(r, "home")}
		}, func(t *testing.T, root string) string {
			return snap(t, filepath.Join(root, "x", "huggingface", "hub"), "models--gpt2", "r", 0, false)
		}, ""},
		{"the hub's current id of an old name", "gpt2", func(r string) map[string]string {
			return map[string]string{"HF_HUB_CACHE": r}
		}, func(t *testing.T, root string) string {
			return snap(t, root, "models--openai-community--gpt2", "r", 0, false)
		}, ""},
		{"ORG/NAME", "HuggingFaceTB/SmolLM2-135M", func(r string) map[string]string {
			return map[string]string{"HF_HUB_CACHE": r}
		}, func(t *testing.T, root string) string {
			return snap(t, root, "models--HuggingFaceTB--SmolLM2-135M", "r", 0, false)
		}, ""},
		{"refs/main names a missing snapshot", "gpt2", func(r string) map[string]string {
			return map[string]string{"HF_HUB_CACHE": r}
		}, func(t *testing.T, root string) string {
			snap(t, root, "models--gpt2", "other", 0, false)
			ref(t, root, "models--gpt2", "abc")
			return ""
		}, "refs/main names revision abc, which has no snapshot folder"},
		{"snapshot without config.json", "gpt2", func(r string) map[string]string {
			return map[string]string{"HF_HUB_CACHE": r}
		}, func(t *testing.T, root string) string {
			snap(t, root, "models--gpt2", "r", 0, true)
			return ""
		}, "the cached snapshot has no config.json"},
		{"nowhere", "gpt2", func(r string) map[string]string {
			return map[string]string{"HF_HUB_CACHE": filepath.Join(r, "empty")}
		}, func(t *testing.T, root string) string { return "" },
			`model "gpt2" is not a file or folder, not in models/gpt2 and not in the Hugging Face cache (looked for `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(root, "work"), 0o755))
			t.Chdir(filepath.Join(root, "work"))
			want := tc.setup(t, root)
			env := map[string]string{"HOME": filepath.Join(root, "nohome")}
			if tc.env != nil {
				env = tc.env(root)
			}
			got, err := Resolve(tc.model, func(k string) string { return env[k] })
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestForFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	empty := func(k string) string {
		if k == "HF_HUB_CACHE" {
			return "/nonexistent/hub"
		}
		return ""
	}
	_, err := ForFlag("", "gpt2", empty)
	require.Error(t, err)
	for _, want := range []string{"-model: no model given, and the default model \"gpt2\" is not a file or folder",
		"/nonexistent/hub/models--gpt2, /nonexistent/hub/models--openai-community--gpt2",
		"scripts/download.sh model gpt2 models/gpt2   (then -model models/gpt2)", "SmolLM2-135M-Instruct"} {
		assert.Contains(t, err.Error(), want)
	}
	var nf *NotFoundError
	assert.True(t, errors.As(err, &nf))
	_, err = ForFlag("roberta-base", "gpt2", empty)
	assert.ErrorContains(t, err, "-model: model \"roberta-base\" is not")
	assert.ErrorContains(t, err, "scripts/download.sh model roberta-base models/roberta-base")
	_, err = ForFlag("", "", empty)
	assert.ErrorContains(t, err, "-model: no model given\n")
	require.NoError(t, os.MkdirAll("models/gpt2", 0o755))
	got, err := ForFlag("", "gpt2", empty)
	require.NoError(t, err)
	assert.Equal(t, "models/gpt2", got)
}
