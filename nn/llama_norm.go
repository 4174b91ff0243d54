package nn

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// LlamaRMSNorm is Llama's root-mean-square norm over the last dimension, as Hugging Face's LlamaRMSNorm:
// y = Weight · cast(x·rsqrt(mean(x²) + eps)), with the statistics computed in fp32 and the normalised value cast
// back to x's dtype before the [d] Weight multiplies it.
type LlamaRMSNorm struct {
	Weight *ts.Tensor
	Eps    float64
}

// NewLlamaRMSNorm wraps a [d] weight.
func NewLlamaRMSNorm(weight *ts.Tensor, eps float64) *LlamaRMSNorm {
	return &LlamaRMSNorm{Weight: weight, Eps: eps}
}

// Params returns the weight under its checkpoint name ("weight").
func (n *LlamaRMSNorm) Params() []NamedTensor { return []NamedTensor{{"weight", n.Weight}} }

// Forward normalises x [..., d].
func (n *LlamaRMSNorm) Forward(x *ts.Tensor) *ts.Tensor {
	h := x
	if x.DType() != gotch.Float {
		h = x.MustTotype(gotch.Float, false)
	}
	v := h.MustSquare(false).MustMeanDim([]int64{-1}, true, gotch.Float, true)
	r := v.MustAddScalar(ts.FloatScalar(n.Eps), true).MustRsqrt(true)
	y := h.MustMul(r, false)
	r.MustDrop()
	if h != x {
		h.MustDrop()
	}
	if x.DType() != gotch.Float {
		y = y.MustTotype(x.DType(), true)
	}
	out := n.Weight.MustMul(y, false)
	y.MustDrop()
	return out
}
