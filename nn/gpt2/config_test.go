package gpt2_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadHFConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, weights.ConfigFile)
	require.NoError(t, os.WriteFile(path, []byte(`{"model_type": "gpt2", "n_embd": 64, "n_head": 4, "pad_token_id": 7,
		"id2label": {"0": "neg", "1": "neu", "2": "pos"}}`), 0o644))
	c, err := gpt2.ReadConfig(dir)
	require.NoError(t, err)
	assert.Equal(t, int64(64), c.NEmbd)
	assert.Equal(t, int64(4), c.NHead)
	assert.Equal(t, int64(12), c.NLayer, "absent keys keep transformers' defaults")
	assert.Equal(t, int64(256), c.Inner())
	assert.Equal(t, 3, c.NumLabels())
	require.NotNil(t, c.PadTokenID)
	assert.Equal(t, int64(7), *c.PadTokenID)
	assert.Equal(t, 2, weights.HFConfig{}.NumLabels())

	for _, tc := range []struct{ name, json, want string }{
		{"bad json", `{"n_embd": "x"}`, weights.ConfigFile},
		{"heads", `{"n_embd": 30, "n_head": 4}`, "multiple of n_head"},
		{"activation", `{"activation_function": "swish2"}`, "swish2"},
		{"dropout", `{"resid_pdrop": 1}`, "dropout"},
		{"size", `{"n_layer": 0}`, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, []byte(tc.json), 0o644))
			_, err := gpt2.ReadConfig(dir)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, path)
		})
	}
	_, err = gpt2.ReadConfig(t.TempDir())
	require.Error(t, err, "no config.json")
}
