package reftest

import (
	"os"
	"path/filepath"
	"testing"
)

// Shared returns the path of elem under the shared data folder beside the repository (../shared/data: GLUE,
// MMLU, tokenizers), failing the test (never skipping) when it is missing.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Root(t), "..", "shared", "data"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reftest: the shared data %s is missing: %v", p, err)
	}
	return p
}

// TinyLlama writes the tiny random Llama of scripts/reference/llama_instruct_tiny.py (Llama-2 vocabulary) into a
// temporary folder and returns it with the shared Llama-2 tokenizer folder.
func TinyLlama(t testing.TB) (model, tok string) {
	t.Helper()
	tok = filepath.Dir(Shared(t, "tokenizers", "llama2", "tokenizer.model"))
	model = t.TempDir()
	Run(t, "llama_instruct_tiny.py", "model", model)
	return model, tok
}
