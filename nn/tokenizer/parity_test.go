package tokenizer

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReferenceRuns(t *testing.T) {
	r := reference(t, "gpt2")
	t.Log(r.Encode[:3])
}

func TestDumpRequest(t *testing.T) {
	specs := referenceSpecs(t)
	req := map[string]any{"tokenizers": specs, "texts": parityTexts, "pairs": parityPairs,
		"max_length": parityMaxLength, "decode": decodeProbes}
	data, _ := json.Marshal(req)
	require.NoError(t, os.WriteFile("/tmp/req.json", data, 0o644))
}
