package nn_test

import (
	"runtime"
	"testing"

	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// TestGeneratedBindings checks the behaviours of the bindings that set-up generates (scripts/gotchgen) which the
// models rely on: optional tensors given as nil or as the undefined ts.None mean "none", nil optional int lists
// mean "none", and scaled_dot_product_attention's is_causal and enable_gqa equal their explicit forms.
func TestGeneratedBindings(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := nntest.NewRNG(11)
	const B, H, KV, T, D = 2, 4, 2, 5, 8
	q := nntest.F32([]int64{B, H, T, D}, nntest.RandF32(rng, B*H*T*D))
	k := nntest.F32([]int64{B, KV, T, D}, nntest.RandF32(rng, B*KV*T*D))
	v := nntest.F32([]int64{B, KV, T, D}, nntest.RandF32(rng, B*KV*T*D))
	// keys and values with each kv head repeated for its H/KV query heads
	rep := func(x *ts.Tensor) *ts.Tensor {
		return x.MustRepeatInterleaveSelfInt(H/KV, []int64{1}, []int64{}, false)
	}
	kr, vr := rep(k), rep(v)
	zeros := ts.MustZeros([]int64{1, 1, T, T}, gotch.Float, gotch.CPU)
	causal := ts.MustOnes([]int64{T, T}, gotch.Bool, gotch.CPU).MustTril(0, true)
	sdpa := func(k, v, mask *ts.Tensor, isCausal, gqa bool) []float64 {
		return nntest.Values(ts.MustScaledDotProductAttention(q, k, v, mask, 0, isCausal, nil, gqa))
	}
	want := sdpa(kr, vr, zeros, false, false)
	for _, tc := range []struct {
		name string
		got  []float64
	}{
		{"nil mask", sdpa(kr, vr, nil, false, false)},
		{"undefined mask (ts.None)", sdpa(kr, vr, ts.None, false, false)},
		{"enable_gqa", sdpa(k, v, nil, false, true)},
	} {
		nntest.RequireClose(t, want, tc.got, 1e-6, tc.name)
	}
	nntest.RequireClose(t, sdpa(kr, vr, causal, false, false), sdpa(kr, vr, nil, true, false), 1e-6, "is_causal")
	nntest.RequireClose(t, sdpa(kr, vr, causal, false, false), sdpa(k, v, nil, true, true), 1e-6, "is_causal with enable_gqa")

	// sum over dim=None reduces everything; over dim=[1] only that axis.
	x := nntest.F32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	require.Equal(t, []float64{21}, nntest.Values(x.MustSumDimIntlist(nil, false, gotch.Float, false)))
	require.Equal(t, []float64{6, 15}, nntest.Values(x.MustSumDimIntlist([]int64{1}, false, gotch.Float, false)))
}
