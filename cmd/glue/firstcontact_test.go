package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// Without -model the command trains the default model, gpt2, found in the Hugging Face cache (a fake cache
// whose snapshot is the tiny GPT-2 and its tokenizer); -model gpt2 finds it too; with an empty cache it says
// what to run.
func TestDefaultModelFromHubCache(t *testing.T) {
	runtime.LockOSThread()
	cache := t.TempDir()
	snap := filepath.Join(cache, "models--gpt2", "snapshots", "0123abcd")
	reftest.Run(t, "gluecmd_tiny.py", "gpt2", snap)
	tok := filepath.Join(reftest.Root(t), ".cache", "tokenizers", "gpt2")
	entries, err := os.ReadDir(tok)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(tok, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(snap, e.Name()), b, 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(cache, "models--gpt2", "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "models--gpt2", "refs", "main"), []byte("0123abcd"), 0o644))
	data := mnliDir(t)
	args := func(out string, extra ...string) []string {
		return append([]string{"-task", "mnli", "-ratio", "16", "-data", data, "-out", out, "-device", "cpu", "-batch", "4",
			"-max-len", "32", "-pad-longest", "-limit-train", "8", "-limit-eval", "4", "-max-steps", "1"}, extra...)
	}
	for _, tc := range []struct {
		name  string
		extra []string
	}{{"no -model", nil}, {"-model gpt2", []string{"-model", "gpt2"}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HF_HUB_CACHE", cache)
			var stdout, stderr bytes.Buffer
			require.Equal(t, cli.ExitOK, run(args(t.TempDir(), tc.extra...), &stdout, &stderr), stderr.String())
			assert.Contains(t, stdout.String(), "model "+snap+" (gpt2)")
		})
	}
	t.Run("nothing found", func(t *testing.T) {
		t.Setenv("HF_HUB_CACHE", t.TempDir())
		var stdout, stderr bytes.Buffer
		require.Equal(t, cli.ExitError, run(args(t.TempDir()), &stdout, &stderr))
		for _, want := range []string{"glue: -model: no model given, and the default model \"gpt2\" is not a file or folder",
			"scripts/download.sh model gpt2 models/gpt2", "SmolLM2-135M-Instruct"} {
			assert.Contains(t, stderr.String(), want)
		}
	})
}
