// Package reftest runs the Python reference implementations (torch, transformers, PEFT in the project's .venv)
// from Go tests. The reference is a test oracle only: nothing outside tests imports this package.
package reftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the repository root (the directory holding go.mod), found from the working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("reftest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Python returns the reference interpreter, failing the test (never skipping) when set-up has not been run.
func Python(t testing.TB) string {
	t.Helper()
	py := filepath.Join(Root(t), ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("reftest: %s is missing: run `make test` (or scripts/setup.sh) to install the Python reference stack", py)
	}
	return py
}

// Run runs scripts/reference/<script> with args under the reference interpreter and returns its stdout.
// A failing script fails the test with its stderr.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	path := filepath.Join(Root(t), "scripts", "reference", script)
	cmd := exec.Command(Python(t), append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0", "OMP_NUM_THREADS=1", "TOKENIZERS_PARALLELISM=false",
		"HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "TRANSFORMERS_VERBOSITY=error")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reftest: %s %s: %v\n%s", script, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
