package tokenizer

import (
	"github.com/loraplus-go/loraplus/nn/reftest"
	"os"
	"path/filepath"
	"testing"
)

const fetchHint = "run `make test` (it runs scripts/fetch-tokenizers.sh to fetch the tokenizer files and build the " +
	"reference directories under .cache/tokenizers)"

// assetPath returns <repo>/.cache/tokenizers/<rel>, failing with a hint when it is missing.
func assetPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(reftest.Root(t), ".cache", "tokenizers", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("tokenizer asset %s is missing: %s", p, fetchHint)
	}
	return p
}

// llama2ModelPath is the shared Llama-2 tokenizer.model.
func llama2ModelPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(reftest.Root(t), "..", "shared", "data", "tokenizers", "llama2", "tokenizer.model")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared Llama-2 tokenizer.model missing at %s (see ../shared/data/README.md)", p)
	}
	return p
}

// venvPython is the reference environment's interpreter.
func venvPython(t testing.TB) string {
	t.Helper()
	p := filepath.Join(reftest.Root(t), ".venv", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Python reference environment missing at %s: create it from scripts/requirements.txt "+
			"(python -m venv .venv && .venv/bin/pip install -r scripts/requirements.txt)", p)
	}
	return p
}
