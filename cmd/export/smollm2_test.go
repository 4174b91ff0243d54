package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// smolIDs are token ids of SmolLM2's vocabulary of 49152.
var smolIDs = []int64{1, 9690, 198, 2683, 314, 260, 3575, 282, 4649, 47, 2}

// TestExportSmolLM2 exports a real GGUF model (SmolLM2-135M-Instruct, Q4_1) with an adapter as Q8_0: the tokenizer
// metadata must be copied unchanged (nn/tokenizer reads it and encodes as from the base) and nn/llama.Load must
// give the adapted model's logits within Q8_0's rounding.
func TestExportSmolLM2(t *testing.T) {
	runtime.LockOSThread()
	base := reftest.SmolLM2(t)
	adapter, want := makeAdapter(t, base, smolIDs, 2, 0.05, "q_proj", "v_proj", "down_proj")
	out := filepath.Join(t.TempDir(), "smollm2-f16.gguf")
	code, stderr := exportRun(t, "-model", base, "-adapter", adapter, "-out", out, "-format", "gguf-f16")
	require.Equal(t, cli.ExitOK, code, stderr)

	bf, err := gguf.Open(base)
	require.NoError(t, err)
	defer bf.Close()
	of, err := gguf.Open(out)
	require.NoError(t, err)
	defer of.Close()
	n := 0
	for _, kv := range bf.KVs {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			v, ok := of.Get(kv.Key)
			require.True(t, ok, kv.Key)
			require.Equal(t, kv.Value, v, kv.Key)
			n++
		}
	}
	require.GreaterOrEqual(t, n, 8, "tokens, scores or merges, types, ids")
	for _, key := range []string{"general.architecture", "llama.block_count", "llama.context_length", "llama.embedding_length",
		"llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
		"llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "llama.rope.dimension_count"} {
		bv, _ := bf.Get(key)
		ov, ok := of.Get(key)
		require.True(t, ok, key)
		require.Equal(t, bv.Data, ov.Data, key)
	}
	ti, err := of.Tensor("blk.0.attn_q.weight")
	require.NoError(t, err)
	require.Equal(t, gguf.TypeF16, ti.Type)

	bt, err := tokenizer.Load(base)
	require.NoError(t, err)
	ot, err := tokenizer.Load(out)
	require.NoError(t, err)
	const text = "<|im_start|>user\nWhat is the capital of France?<|im_end|>"
	require.Equal(t, bt.Encode(text, true), ot.Encode(text, true))

	d, scale := maxDiff(t, want, loaded(t, out, smolIDs))
	t.Logf("max |Δlogit| %.3g of max |logit| %.3g", d, scale)
	require.Less(t, d, 3e-2*scale)
}
