package gguf

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type llamaManifest struct {
	Tensors []struct {
		GGUF         string `json:"gguf"`
		HF           string `json:"hf"`
		Type         int    `json:"type"`
		Shape        []int  `json:"shape"`
		PermuteHeads int    `json:"permute_heads"`
		Ref          string `json:"ref"`
	} `json:"tensors"`
	Params struct {
		BlockCount        int       `json:"block_count"`
		ContextLength     int       `json:"context_length"`
		EmbeddingLength   int       `json:"embedding_length"`
		FeedForwardLength int       `json:"feed_forward_length"`
		HeadCount         int       `json:"head_count"`
		HeadCountKV       int       `json:"head_count_kv"`
		HeadDim           int       `json:"head_dim"`
		VocabSize         int       `json:"vocab_size"`
		RMSEpsBits        uint32    `json:"rms_eps_bits"`
		RopeFreqBase      float32   `json:"rope_freq_base"`
		RopeScalingType   string    `json:"rope_scaling_type"`
		RopeScalingFactor float32   `json:"rope_scaling_factor"`
		RopeScalingOrig   int       `json:"rope_scaling_orig_ctx"`
		Tokens            []string  `json:"tokens"`
		Scores            []float32 `json:"scores"`
		TokenTypes        []int32   `json:"token_types"`
	} `json:"params"`
	Unmapped []string `json:"unmapped"`
}

func openLlamaFixture(t *testing.T) (string, *File, llamaManifest) {
	dir := fixtureDir(t)
	var m llamaManifest
	b, err := os.ReadFile(filepath.Join(dir, "llama.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	f, err := Open(filepath.Join(dir, "llama.gguf"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return dir, f, m
}

func TestLlamaParamsFixture(t *testing.T) {
	_, f, m := openLlamaFixture(t)
	p, err := f.LlamaParams()
	require.NoError(t, err)
	want := m.Params
	assert.Equal(t, "llama", p.Architecture)
	assert.Equal(t, "tiny-llama-fixture", p.Name)
	assert.Equal(t, want.BlockCount, p.BlockCount)
	assert.Equal(t, want.ContextLength, p.ContextLength)
	assert.Equal(t, want.EmbeddingLength, p.EmbeddingLength)
	assert.Equal(t, want.FeedForwardLength, p.FeedForwardLength)
	assert.Equal(t, want.HeadCount, p.HeadCount)
	assert.Equal(t, want.HeadCountKV, p.HeadCountKV)
	assert.Equal(t, want.HeadDim, p.HeadDim)
	assert.Equal(t, want.HeadDim, p.RopeDimensionCount)
	assert.Equal(t, want.VocabSize, p.VocabSize)
	assert.Equal(t, want.RMSEpsBits, f32bits(p.RMSNormEps))
	assert.Equal(t, want.RopeFreqBase, p.RopeFreqBase)
	assert.Equal(t, RopeScaling{Type: want.RopeScalingType, Factor: want.RopeScalingFactor, OriginalContextLength: want.RopeScalingOrig}, p.RopeScaling)
	assert.False(t, p.TieWordEmbeddings)

	tok := p.Tokenizer
	assert.Equal(t, "llama", tok.Model)
	assert.Equal(t, want.Tokens, tok.Tokens)
	assert.Equal(t, want.Scores, tok.Scores)
	assert.Equal(t, want.TokenTypes, tok.TokenTypes)
	assert.Nil(t, tok.Merges)
	assert.Equal(t, []int{1, 2, 0, 3}, []int{tok.BOS, tok.EOS, tok.UNK, tok.PAD})
	assert.True(t, tok.AddBOS)
	assert.False(t, tok.AddEOS)
	assert.Contains(t, tok.ChatTemplate, "bos_token")
}

// TestHFTensorsFixture loads every tensor of a tiny Llama converted like
// llama.cpp does (q/k rows permuted) and checks the Hugging Face view equals
// the original Hugging Face tensors.
func TestHFTensorsFixture(t *testing.T) {
	dir, f, m := openLlamaFixture(t)
	mapped, unmapped, err := f.HFTensors()
	require.NoError(t, err)
	assert.Equal(t, m.Unmapped, unmapped)
	require.Len(t, mapped, len(m.Tensors))
	byName := map[string]HFTensor{}
	for _, ht := range mapped {
		byName[ht.Name] = ht
	}
	for _, tc := range m.Tensors {
		t.Run(tc.HF, func(t *testing.T) {
			ht, ok := byName[tc.HF]
			require.True(t, ok)
			assert.Equal(t, tc.GGUF, ht.Info.Name)
			assert.Equal(t, GGMLType(tc.Type), ht.Info.Type)
			assert.Equal(t, tc.Shape, ht.Shape)
			assert.Equal(t, tc.PermuteHeads, ht.PermuteHeads)
			want := readF32(t, filepath.Join(dir, tc.Ref))
			got, err := f.ReadHFFloat32(ht)
			require.NoError(t, err)
			requireSameFloats(t, want, got, 1e-6, tc.HF)

			// The raw HF-order bytes dequantize to the same values.
			raw, err := f.ReadHFRaw(ht)
			require.NoError(t, err)
			fromRaw := make([]float32, len(want))
			require.NoError(t, Dequantize(ht.Info.Type, raw, fromRaw))
			requireSameFloats(t, want, fromRaw, 0, tc.HF+" via ReadHFRaw")
			if ht.PermuteHeads > 0 {
				stored, err := f.Float32(ht.Info.Name)
				require.NoError(t, err)
				assert.NotEqual(t, want, stored, "stored layout should differ from HF layout")
			}
		})
	}
}

type permManifest struct {
	Rows  int    `json:"rows"`
	Cols  int    `json:"cols"`
	In    string `json:"in"`
	Cases []struct {
		Heads int    `json:"heads"`
		Ref   string `json:"ref"`
	} `json:"cases"`
}

// TestPermuteMatchesConverter checks PermuteRows against llama.cpp's
// LlamaModel.permute (run in Python) and UnpermuteRows as its inverse.
func TestPermuteMatchesConverter(t *testing.T) {
	dir := fixtureDir(t)
	var m permManifest
	b, err := os.ReadFile(filepath.Join(dir, "perm.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	in := readF32(t, filepath.Join(dir, m.In))
	for _, tc := range m.Cases {
		want := readF32(t, filepath.Join(dir, tc.Ref))
		got, err := PermuteRows(in, m.Rows, tc.Heads)
		require.NoError(t, err, "heads %d", tc.Heads)
		require.Equal(t, want, got, "heads %d", tc.Heads)
		back, err := UnpermuteRows(want, m.Rows, tc.Heads)
		require.NoError(t, err)
		require.Equal(t, in, back, "heads %d", tc.Heads)
	}
}

func TestUnpermuteRowsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ rows, cols, heads int }{
		{576, 3, 9}, {192, 2, 3}, {64, 1, 4}, {8, 5, 1},
	} {
		x := make([]float32, tc.rows*tc.cols)
		for i := range x {
			x[i] = rng.Float32()
		}
		p, err := PermuteRows(x, tc.rows, tc.heads)
		require.NoError(t, err)
		require.NotEqual(t, x, p)
		// Row h*D + 2i + s of the stored layout is HF row h*D + s*D/2 + i.
		d := tc.rows / tc.heads
		for h := range tc.heads {
			for i := range d / 2 {
				for s := range 2 {
					g, hf := h*d+2*i+s, h*d+s*d/2+i
					require.Equal(t, x[hf*tc.cols:(hf+1)*tc.cols], p[g*tc.cols:(g+1)*tc.cols])
				}
			}
		}
		back, err := UnpermuteRows(p, tc.rows, tc.heads)
		require.NoError(t, err)
		require.Equal(t, x, back)
	}
	for _, tc := range []struct{ n, rows, heads int }{
		{30, 10, 3}, {12, 4, 0}, {13, 4, 2}, {0, 0, 1},
	} {
		_, err := UnpermuteRows(make([]byte, tc.n), tc.rows, tc.heads)
		require.Error(t, err, "%+v", tc)
	}
}

func TestHFName(t *testing.T) {
	for _, tc := range []struct{ gguf, hf string }{
		{"token_embd.weight", "model.embed_tokens.weight"},
		{"output_norm.weight", "model.norm.weight"},
		{"output.weight", "lm_head.weight"},
		{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"},
		{"blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight"},
		{"blk.2.attn_v.weight", "model.layers.2.self_attn.v_proj.weight"},
		{"blk.31.attn_output.weight", "model.layers.31.self_attn.o_proj.weight"},
		{"blk.3.ffn_gate.weight", "model.layers.3.mlp.gate_proj.weight"},
		{"blk.3.ffn_up.weight", "model.layers.3.mlp.up_proj.weight"},
		{"blk.3.ffn_down.weight", "model.layers.3.mlp.down_proj.weight"},
		{"blk.10.attn_norm.weight", "model.layers.10.input_layernorm.weight"},
		{"blk.10.ffn_norm.weight", "model.layers.10.post_attention_layernorm.weight"},
		{"blk.0.attn_q.bias", "model.layers.0.self_attn.q_proj.bias"},
	} {
		got, ok := HFName(tc.gguf)
		require.True(t, ok, tc.gguf)
		require.Equal(t, tc.hf, got)
		back, ok := GGUFName(tc.hf)
		require.True(t, ok, tc.hf)
		require.Equal(t, tc.gguf, back)
	}
	for _, name := range []string{
		"rope_freqs.weight", "blk.x.attn_q.weight", "blk.01.attn_q.weight", "blk.-1.attn_q.weight",
		"blk.0.attn_qkv.weight", "token_embd", "blk.0.attn_q.scale", "", "blk..attn_q.weight",
	} {
		_, ok := HFName(name)
		require.False(t, ok, name)
	}
	for _, name := range []string{"model.layers.x.mlp.up_proj.weight", "lm_head", "model.rotary_emb.inv_freq"} {
		_, ok := GGUFName(name)
		require.False(t, ok, name)
	}
}

func TestLlamaParamsErrors(t *testing.T) {
	base := func() []testKV {
		return []testKV{
			{"general.architecture", "llama"},
			{"llama.block_count", uint32(2)},
			{"llama.context_length", uint32(128)},
			{"llama.embedding_length", uint32(64)},
			{"llama.feed_forward_length", uint32(128)},
			{"llama.attention.head_count", uint32(4)},
			{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
			{"tokenizer.ggml.model", "gpt2"},
			{"tokenizer.ggml.tokens", testArr{ValueString, []any{"a", "b", "c"}}},
		}
	}
	set := func(kvs []testKV, key string, val any) []testKV {
		for i := range kvs {
			if kvs[i].key == key {
				if val == nil {
					return append(kvs[:i], kvs[i+1:]...)
				}
				kvs[i].val = val
				return kvs
			}
		}
		return append(kvs, testKV{key, val})
	}
	for _, tc := range []struct {
		name string
		key  string
		val  any
		err  string
	}{
		{"ok", "", nil, ""},
		{"other architecture", "general.architecture", "qwen2", `general.architecture is "qwen2", want "llama"`},
		{"missing block count", "llama.block_count", nil, `metadata key "llama.block_count": not found`},
		{"string head count", "llama.attention.head_count", "4", `"llama.attention.head_count" is string, want an unsigned integer`},
		{"zero heads", "llama.attention.head_count", uint32(0), "head_count is 0"},
		{"kv heads do not divide", "llama.attention.head_count_kv", uint32(3), "head_count_kv 3 does not divide head_count 4"},
		{"eps as int", "llama.attention.layer_norm_rms_epsilon", uint32(1), `"llama.attention.layer_norm_rms_epsilon" is uint32, want float32 or float64`},
		{"bos out of range", "tokenizer.ggml.bos_token_id", uint32(3), "tokenizer.ggml.bos_token_id 3 is out of range for 3 tokens"},
		{"scores length", "tokenizer.ggml.scores", testArr{ValueFloat32, []any{float32(0)}}, "tokenizer.ggml.scores has 1 entries for 3 tokens"},
		{"tokens not strings", "tokenizer.ggml.tokens", testArr{ValueInt32, []any{int32(1)}}, `"tokenizer.ggml.tokens" is array[int32], want array[string]`},
		{"huge ffn", "llama.feed_forward_length", uint64(1 << 40), "implausibly large"},
		{"embedding not multiple of heads", "llama.embedding_length", uint32(66), "embedding_length 66 is not a multiple"},
		{"nan rope base", "llama.rope.freq_base", float32(nanF32()), `"llama.rope.freq_base" is NaN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kvs := base()
			if tc.key != "" {
				kvs = set(kvs, tc.key, tc.val)
			}
			f := mustParse(t, buildGGUF(3, kvs, nil))
			p, err := f.LlamaParams()
			if tc.err == "" {
				require.NoError(t, err)
				assert.Equal(t, 3, p.VocabSize)
				assert.Equal(t, 16, p.HeadDim)
				assert.Equal(t, 4, p.HeadCountKV)
				assert.Equal(t, float32(10000), p.RopeFreqBase)
				assert.True(t, p.TieWordEmbeddings)
				assert.False(t, p.Tokenizer.AddBOS)
				assert.Equal(t, -1, p.Tokenizer.BOS)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.err)
		})
	}
}

// rawLE16 packs uint16 values little-endian.
func rawLE16(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func TestReadHFRawPermutesHalfRows(t *testing.T) {
	// A 4-row F16 q_proj with 1 head of dimension 4: stored rows [0 2 1 3]
	// of the HF matrix (each row has 2 values).
	hf := []uint16{10, 11, 20, 21, 30, 31, 40, 41}
	stored, err := PermuteRows(hf, 4, 1)
	require.NoError(t, err)
	require.Equal(t, []uint16{10, 11, 30, 31, 20, 21, 40, 41}, stored)
	kvs := []testKV{
		{"general.architecture", "llama"},
		{"llama.block_count", uint32(1)},
		{"llama.context_length", uint32(8)},
		{"llama.embedding_length", uint32(4)},
		{"llama.feed_forward_length", uint32(8)},
		{"llama.attention.head_count", uint32(1)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
	}
	f := mustParse(t, buildGGUF(3, kvs, []testTensor{
		{name: "blk.0.attn_q.weight", typ: TypeF16, dims: []uint64{2, 4}, data: rawLE16(stored...)},
	}))
	mapped, unmapped, err := f.HFTensors()
	require.NoError(t, err)
	require.Empty(t, unmapped)
	require.Len(t, mapped, 1)
	raw, err := f.ReadHFRaw(mapped[0])
	require.NoError(t, err)
	require.Equal(t, rawLE16(hf...), raw)
	_, err = f.LlamaParams()
	require.ErrorContains(t, err, "no llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight")
}
