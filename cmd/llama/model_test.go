package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
)

// Without -model, run from the repository root, the command takes the SmolLM2 GGUF of the reference environment;
// elsewhere (no such file) it says what to run; a name is looked up in the Hugging Face cache.
func TestDefaultModel(t *testing.T) {
	gguf := reftest.SmolLM2(t)
	root := reftest.Root(t)
	t.Run("SmolLM2 from the repository root", func(t *testing.T) {
		t.Chdir(root)
		o, err := parseFlags([]string{"-data", "d.jsonl"}, io.Discard)
		require.NoError(t, err)
		require.NoError(t, o.modelErr)
		abs, err := filepath.Abs(o.model)
		require.NoError(t, err)
		assert.Equal(t, gguf, abs)
		assert.Equal(t, o.model, o.tok, "the tokenizer comes from the GGUF")
	})
	t.Run("nothing installed", func(t *testing.T) {
		t.Chdir(t.TempDir())
		t.Setenv("HF_HUB_CACHE", t.TempDir())
		o, err := parseFlags([]string{"-data", "d.jsonl"}, io.Discard)
		require.NoError(t, err, "the model is looked for when the run needs it")
		require.Error(t, o.modelErr)
		assert.Contains(t, o.modelErr.Error(), "-model: no model given")
		assert.Contains(t, o.modelErr.Error(), "scripts/download.sh model")
		_, err = finetune(o, nil, io.Discard, io.Discard)
		assert.Equal(t, o.modelErr, err)
	})
	t.Run("a name in the hub cache", func(t *testing.T) {
		cache := t.TempDir()
		snap := filepath.Join(cache, "models--HuggingFaceTB--SmolLM2-135M-Instruct", "snapshots", "r1")
		require.NoError(t, os.MkdirAll(snap, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(snap, "config.json"), []byte("{}"), 0o644))
		t.Setenv("HF_HUB_CACHE", cache)
		o, err := parseFlags([]string{"-data", "d.jsonl", "-model", "HuggingFaceTB/SmolLM2-135M-Instruct"}, io.Discard)
		require.NoError(t, err)
		require.NoError(t, o.modelErr)
		assert.Equal(t, snap, o.model)
	})
}
