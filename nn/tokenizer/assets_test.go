package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const fetchHint = "run `make test` (it runs scripts/fetch-tokenizers.sh to fetch the tokenizer files and build the " +
	"reference directories under .cache/tokenizers)"

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the package directory")
		dir = parent
	}
}

// assetPath returns <repo>/.cache/tokenizers/<rel>, failing with a hint when it is missing.
func assetPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), ".cache", "tokenizers", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("tokenizer asset %s is missing: %s", p, fetchHint)
	}
	return p
}

// llama2ModelPath is the shared Llama-2 tokenizer.model.
func llama2ModelPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "..", "shared", "data", "tokenizers", "llama2", "tokenizer.model")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared Llama-2 tokenizer.model missing at %s (see ../shared/data/README.md)", p)
	}
	return p
}

// venvPython is the reference environment's interpreter.
func venvPython(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), ".venv", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Python reference environment missing at %s: create it from scripts/requirements.txt "+
			"(python -m venv .venv && .venv/bin/pip install -r scripts/requirements.txt)", p)
	}
	return p
}
