package gguf

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
)

type smolManifest struct {
	Tensors []struct {
		Name         string `json:"name"`
		Type         int    `json:"type"`
		Shape        []int  `json:"shape"`
		Rows         []int  `json:"rows"`
		Ref          string `json:"ref"`
		PermuteHeads int    `json:"permute_heads"`
		HFRef        string `json:"hf_ref"`
	} `json:"tensors"`
	Checksums map[string][2]float64 `json:"checksums"`
}

// TestSmolLM2 reads the real SmolLM2-135M-Instruct Q4_1 GGUF and compares
// header, metadata, tensor table, selected tensors and checksums of every
// dequantized tensor with gguf-py.
func TestSmolLM2(t *testing.T) {
	path := reftest.SmolLM2(t)
	startSmolLM2Ref(t) // runs while the Go side works
	start := time.Now()
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	t.Logf("opened %s (%d bytes, %d tensors, %d metadata entries) in %v", filepath.Base(path), f.Size, len(f.Tensors), len(f.KVs), time.Since(start))

	counts := map[string]int{}
	for _, ti := range f.Tensors {
		counts[ti.Type.String()]++
	}
	t.Logf("tensor types: %v", counts)
	assert.Equal(t, map[string]int{"Q4_1": 210, "F32": 61, "Q8_0": 1}, counts)

	t.Run("params", func(t *testing.T) {
		p, err := f.LlamaParams()
		require.NoError(t, err)
		assert.Equal(t, 30, p.BlockCount)
		assert.Equal(t, 8192, p.ContextLength)
		assert.Equal(t, 576, p.EmbeddingLength)
		assert.Equal(t, 1536, p.FeedForwardLength)
		assert.Equal(t, 9, p.HeadCount)
		assert.Equal(t, 3, p.HeadCountKV)
		assert.Equal(t, 64, p.HeadDim)
		assert.Equal(t, 64, p.RopeDimensionCount)
		assert.Equal(t, float32(1e-5), p.RMSNormEps)
		assert.Equal(t, float32(100000), p.RopeFreqBase)
		assert.Equal(t, RopeScaling{}, p.RopeScaling)
		assert.Equal(t, 49152, p.VocabSize)
		assert.True(t, p.TieWordEmbeddings)
		tok := p.Tokenizer
		assert.Equal(t, "gpt2", tok.Model)
		assert.Equal(t, "smollm", tok.Pre)
		assert.Len(t, tok.Tokens, 49152)
		assert.Equal(t, "<|endoftext|>", tok.Tokens[0])
		assert.Len(t, tok.TokenTypes, 49152)
		assert.Nil(t, tok.Scores)
		assert.Len(t, tok.Merges, 48900)
		assert.Equal(t, "\u0120 t", tok.Merges[0])
		assert.Equal(t, []int{1, 2, 0, 2}, []int{tok.BOS, tok.EOS, tok.UNK, tok.PAD})
		assert.False(t, tok.AddBOS)
		assert.Contains(t, tok.ChatTemplate, "messages")
	})

	// Dequantize every tensor into a reused buffer, timing the
	// dequantization alone, and checksum it for comparison with gguf-py.
	type sums struct{ sum, wsum, abs, wabs float64 }
	got := map[string]sums{}
	var largest, total int64
	for _, ti := range f.Tensors {
		largest = max(largest, ti.NumElements())
	}
	buf := make([]float32, largest)
	var elapsed time.Duration
	for _, ti := range f.Tensors {
		x := buf[:ti.NumElements()]
		t0 := time.Now()
		require.NoError(t, f.Float32Into(ti.Name, x))
		elapsed += time.Since(t0)
		total += int64(len(x))
		var s sums
		for i, v := range x {
			w := float64(i%251 + 1)
			s.sum += float64(v)
			s.wsum += float64(v) * w
			s.abs += math.Abs(float64(v))
			s.wabs += math.Abs(float64(v)) * w
		}
		got[ti.Name] = s
	}
	t.Logf("dequantized all %d tensors (%d values, %.0f MB of float32) in %v", len(f.Tensors), total, float64(total)*4/1e6, elapsed)

	mapped, unmapped, err := f.HFTensors()
	require.NoError(t, err)
	require.Empty(t, unmapped)
	require.Len(t, mapped, len(f.Tensors))
	hfByGGUF := map[string]HFTensor{}
	for _, ht := range mapped {
		hfByGGUF[ht.Info.Name] = ht
	}
	assert.Equal(t, "model.layers.29.mlp.down_proj.weight", hfByGGUF["blk.29.ffn_down.weight"].Name)
	assert.Equal(t, 3, hfByGGUF["blk.7.attn_k.weight"].PermuteHeads)
	assert.Equal(t, 9, hfByGGUF["blk.7.attn_q.weight"].PermuteHeads)

	ref := smolLM2RefDir(t)
	t.Run("metadata", func(t *testing.T) {
		requireMatchesDump(t, f, filepath.Join(ref, "meta.json"))
	})

	var m smolManifest
	b, err := os.ReadFile(filepath.Join(ref, "smollm2.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))

	t.Run("checksums", func(t *testing.T) {
		require.Len(t, m.Checksums, len(f.Tensors))
		for _, ti := range f.Tensors {
			want, s := m.Checksums[ti.Name], got[ti.Name]
			assert.InDelta(t, want[0], s.sum, 1e-9*s.abs+1e-12, ti.Name)
			assert.InDelta(t, want[1], s.wsum, 1e-9*s.wabs+1e-12, ti.Name)
		}
	})

	t.Run("tensors", func(t *testing.T) {
		for _, tc := range m.Tensors {
			ti, err := f.Tensor(tc.Name)
			require.NoError(t, err)
			assert.Equal(t, GGMLType(tc.Type), ti.Type, tc.Name)
			assert.Equal(t, tc.Shape, ti.Shape(), tc.Name)
			got, err := f.Float32(tc.Name)
			require.NoError(t, err)
			if tc.Rows != nil {
				cols := tc.Shape[1]
				sel := make([]float32, 0, len(tc.Rows)*cols)
				for _, r := range tc.Rows {
					sel = append(sel, got[r*cols:(r+1)*cols]...)
				}
				got = sel
			}
			requireSameFloats(t, readF32(t, filepath.Join(ref, tc.Ref)), got, 1e-6, tc.Name)
			if tc.PermuteHeads > 0 {
				ht := hfByGGUF[tc.Name]
				require.Equal(t, tc.PermuteHeads, ht.PermuteHeads, tc.Name)
				hf, err := f.ReadHFFloat32(ht)
				require.NoError(t, err)
				requireSameFloats(t, readF32(t, filepath.Join(ref, tc.HFRef)), hf, 1e-6, ht.Name)
			}
		}
	})
}
