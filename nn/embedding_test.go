package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

const embV, embD = 10, 4

// newTestEmbedding returns a random [V, d] fp32 table and its values.
func newTestEmbedding(rng *rand.Rand) (*nn.Embedding, []float64) {
	w := nntest.F32([]int64{embV, embD}, nntest.RandF32(rng, embV*embD))
	return nn.NewEmbedding(w), nntest.Values(w)
}

// testIDs is a [2, 3] batch of ids with a repeat.
func testIDs() (*ts.Tensor, []int64) {
	ids := []int64{0, 9, 3, 3, 7, 1}
	return ts.MustOfSlice(ids).MustReshape([]int64{2, 3}, true), ids
}

// embeddingRef computes W[id] + s·(Aᵀ[id])·Bᵀ for each id; a is [r, V] and b is [d, r] (nil: no adapter).
func embeddingRef(w, a, b []float64, ids []int64, r int, s float64) []float64 {
	var y []float64
	for _, id := range ids {
		for j := 0; j < embD; j++ {
			v := w[int(id)*embD+j]
			for k := 0; k < r && a != nil; k++ {
				v += s * a[k*embV+int(id)] * b[j*r+k]
			}
			y = append(y, v)
		}
	}
	return y
}

func TestEmbeddingForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 21))
	e, w := newTestEmbedding(rng)
	ids, idv := testIDs()
	y := e.Forward(ids)
	assert.Equal(t, []int64{2, 3, embD}, y.MustSize())
	assert.Equal(t, embeddingRef(w, nil, nil, idv, 0, 0), nntest.Values(y))
	assert.Equal(t, int64(-1), e.PaddingIdx)
	require.Len(t, e.Params(), 1)
	assert.Equal(t, "weight", e.Params()[0].Name)
}

func TestEmbeddingLoRA(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  nn.LoRAConfig
	}{
		{"b-zero", nn.LoRAConfig{Rank: 3, Alpha: 6}},
		{"a-zero rslora", nn.LoRAConfig{Rank: 4, Alpha: 2, RSLoRA: true, Init: nn.InitAZero}},
		{"dropout is ignored", nn.LoRAConfig{Rank: 2, Alpha: 2, Dropout: 0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(22, 23))
			e, w := newTestEmbedding(rng)
			ids, idv := testIDs()
			base := nntest.Values(e.Forward(ids))
			require.NoError(t, e.AddLoRA(tc.cfg, rng))
			l := e.Adapter()
			require.NotNil(t, l)
			r := tc.cfg.Rank
			assert.Equal(t, []int64{int64(r), embV}, l.A.MustSize())
			assert.Equal(t, []int64{embD, int64(r)}, l.B.MustSize())
			assert.Equal(t, tc.cfg.Scale(), l.Scale)
			assert.Zero(t, l.Dropout, "embedding adapters have no dropout")
			assert.True(t, l.A.MustRequiresGrad())
			assert.True(t, l.B.MustRequiresGrad())

			// PEFT's embedding init: A = 0, B ~ N(0, 1) by default, the other way round for a-zero.
			zero, rnd := nntest.Values(l.A), nntest.Values(l.B)
			if tc.cfg.Init == nn.InitAZero {
				zero, rnd = rnd, zero
			}
			assert.Equal(t, make([]float64, len(zero)), zero)
			assert.NotContains(t, rnd, 0.0)
			assert.Equal(t, base, nntest.Values(e.Forward(ids)), "starts exactly at the base")

			setRandomAdapter(rng, l)
			want := embeddingRef(w, nntest.Values(l.A), nntest.Values(l.B), idv, r, tc.cfg.Scale())
			got := e.Forward(ids)
			assert.Equal(t, []int64{2, 3, embD}, got.MustSize())
			nntest.RequireClose(t, want, nntest.Values(got), 1e-5)

			// Merge and Unmerge.
			require.NoError(t, e.Merge())
			assert.True(t, e.Merged())
			nntest.RequireClose(t, want, nntest.Values(e.Forward(ids)), 1e-5, "merged")
			assert.ErrorContains(t, e.Merge(), "already merged")
			require.NoError(t, e.Unmerge())
			assert.False(t, e.Merged())
			nntest.RequireClose(t, w, nntest.Values(e.Weight), 1e-6, "table restored")
			nntest.RequireClose(t, want, nntest.Values(e.Forward(ids)), 1e-5, "unmerged")
			assert.ErrorContains(t, e.Unmerge(), "not merged")
		})
	}
}

func TestEmbeddingErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 25))
	e, _ := newTestEmbedding(rng)
	assert.ErrorContains(t, e.Merge(), "no LoRA adapter")
	assert.ErrorContains(t, e.Unmerge(), "not merged")
	assert.Error(t, e.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: -1}, rng))
	assert.Nil(t, e.LoRA)
	require.NoError(t, e.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 1}, rng))
	assert.ErrorContains(t, e.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 1}, rng), "already has a LoRA adapter")
}

func TestEmbeddingBF16BaseFP32Adapter(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 27))
	e, w := newTestEmbedding(rng)
	e.Weight = e.Weight.MustTotype(gotch.BFloat16, true)
	w = nntest.Values(e.Weight)
	require.NoError(t, e.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 2}, rng))
	assert.Equal(t, gotch.Float, e.LoRA.A.DType())
	setRandomAdapter(rng, e.LoRA)
	ids, idv := testIDs()
	want := embeddingRef(w, nntest.Values(e.LoRA.A), nntest.Values(e.LoRA.B), idv, 2, 1)
	y := e.Forward(ids)
	assert.Equal(t, gotch.BFloat16, y.DType())
	nntest.RequireClose(t, want, nntest.Values(y), 0.03)
	require.NoError(t, e.Merge())
	assert.Equal(t, gotch.BFloat16, e.Weight.DType())
	nntest.RequireClose(t, want, nntest.Values(e.Forward(ids)), 0.03)
}
