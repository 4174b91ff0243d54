package data

import (
	"bytes"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

// toyTokenize is the deterministic tokenizer of scripts/reference/flan_encode.py:
// a BOS id, "</s>" as the EOS id, and pieces that are an ASCII alphanumeric
// run (with at most one leading space) or a single other character, each
// mapped to crc32(piece) % 32000 + 3.
func toyTokenize(text string) ([]int, error) {
	ids := []int{1}
	for n, chunk := range strings.Split(text, "</s>") {
		if n > 0 {
			ids = append(ids, 2)
		}
		for _, p := range toyPieces([]rune(chunk)) {
			ids = append(ids, int(crc32.ChecksumIEEE([]byte(p))%32000)+3)
		}
	}
	return ids, nil
}

func toyPieces(c []rune) []string {
	alnum := func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	var pieces []string
	for i := 0; i < len(c); {
		j := i
		if c[i] == ' ' && i+1 < len(c) && alnum(c[i+1]) {
			j = i + 1
		}
		if alnum(c[j]) {
			for j < len(c) && alnum(c[j]) {
				j++
			}
		} else {
			j++
		}
		pieces = append(pieces, string(c[i:j]))
		i = j
	}
	return pieces
}
