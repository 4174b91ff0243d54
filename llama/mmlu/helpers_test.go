package mmlu

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/loraplus-go/loraplus/nn/reftest"

	"github.com/stretchr/testify/require"
)

// mmluDir is the shared MMLU data directory (../shared/data/mmlu from the repository root).
func mmluDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(reftest.Root(t), "..", "shared", "data", "mmlu")
	_, err := os.Stat(filepath.Join(dir, "test"))
	require.NoError(t, err, "the shared MMLU data is missing: want %s/{dev,val,test}", dir)
	return dir
}

// runReference runs a scripts/reference Python script with the project's
// virtual environment and returns its standard output.
func runReference(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	return runReferenceInput(t, nil, script, args...)
}

// runReferenceInput is runReference with stdin fed to the script.
func runReferenceInput(t testing.TB, stdin []byte, script string, args ...string) []byte {
	t.Helper()
	root := reftest.Root(t)
	python := filepath.Join(root, ".venv", "bin", "python")
	_, err := os.Stat(python)
	require.NoError(t, err, "the Python reference environment is missing: want %s (see scripts/setup.sh)", python)
	cmd := exec.Command(python, append([]string{filepath.Join(root, "scripts", "reference", script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.Output()
	require.NoError(t, err, "%s failed: %s", script, stderr.String())
	return out
}
