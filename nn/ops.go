package nn

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// The building blocks below are shared by the transformer models of nn/gpt2, nn/roberta and nn/llama.

// IsProb reports whether p is a valid dropout probability: 0 ≤ p < 1.
func IsProb(p float64) bool { return p >= 0 && p < 1 }

// MaskMin returns the most negative finite value of a floating dtype (torch.finfo(dtype).min), the value
// transformers adds to the attention scores of masked positions; fp32's for any other dtype.
func MaskMin(dt gotch.DType) float64 {
	switch dt {
	case gotch.Half:
		return -65504
	case gotch.BFloat16:
		return -3.3895313892515355e38
	case gotch.Double:
		return -math.MaxFloat64
	}
	return -math.MaxFloat32
}

// CheckDType accepts the floating dtypes a model can compute in.
func CheckDType(dt gotch.DType) error {
	switch dt {
	case gotch.Float, gotch.Half, gotch.BFloat16, gotch.Double:
		return nil
	}
	return fmt.Errorf("unsupported model dtype %v (want float32, float16, bfloat16 or float64)", dt)
}

// MaskedBias turns a boolean mask (true = masked) into an additive attention bias of dtype dt: 0 where the
// mask is false and finfo(dt).min where it is true.
func MaskedBias(masked *ts.Tensor, dt gotch.DType) *ts.Tensor {
	z := ts.MustZeros(masked.MustSize(), dt, masked.MustDevice())
	return z.MustMaskedFill(masked, ts.FloatScalar(MaskMin(dt)), true)
}

// SplitHeads reshapes x [B, T, H·D] to [B, H, T, D].
func SplitHeads(x *ts.Tensor, heads int64, del bool) *ts.Tensor {
	s := x.MustSize()
	v := x.MustView([]int64{s[0], s[1], heads, s[2] / heads}, del)
	return v.MustTranspose(1, 2, true)
}

// MergeHeads reshapes x [B, H, T, D] to [B, T, H·D].
func MergeHeads(x *ts.Tensor, del bool) *ts.Tensor {
	s := x.MustSize()
	t := x.MustTranspose(1, 2, del).MustContiguous(true)
	return t.MustView([]int64{s[0], s[2], s[1] * s[3]}, true)
}

// Attend computes softmax(q·kᵀ·scale + bias)·v for q, k, v [B, H, T, D] and an additive bias broadcastable
// to [B, H, T, T] (nil for none), with dropout p on the attention weights when train is set. It drops q, k and v.
func Attend(q, k, v, bias *ts.Tensor, scale, p float64, train bool) *ts.Tensor {
	return attend(q, k, v, bias, false, scale, p, train)
}

// AttendCausal is Attend with the causal mask and no other (each query attends to its own and earlier keys),
// given to scaled_dot_product_attention as is_causal rather than as a mask tensor, so that CUDA's flash and
// memory-efficient kernels apply. It drops q, k and v.
func AttendCausal(q, k, v *ts.Tensor, scale, p float64, train bool) *ts.Tensor {
	return attend(q, k, v, nil, true, scale, p, train)
}

func attend(q, k, v, bias *ts.Tensor, causal bool, scale, p float64, train bool) *ts.Tensor {
	if !train {
		p = 0
	}
	out := ts.MustScaledDotProductAttention(q, k, v, bias, p, causal, []float64{scale}, false)
	q.MustDrop()
	k.MustDrop()
	v.MustDrop()
	return out
}

// Dropout applies dropout p in training mode, dropping x; otherwise it returns x itself.
func Dropout(x *ts.Tensor, p float64, train bool) *ts.Tensor {
	if !train || p == 0 {
		return x
	}
	y := ts.MustDropout(x, p, true)
	x.MustDrop()
	return y
}
