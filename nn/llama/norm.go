package llama

import (
	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// RMSNorm is Llama's root-mean-square norm over the last dimension, as Hugging Face's LlamaRMSNorm:
// y = Weight · cast(x·rsqrt(mean(x²) + eps)), with the statistics computed in fp32 and the normalised value cast
// back to x's dtype before the [d] Weight multiplies it.
type RMSNorm struct {
	Weight *ts.Tensor
	Eps    float64
}

// NewRMSNorm wraps a [d] weight.
func NewRMSNorm(weight *ts.Tensor, eps float64) *RMSNorm {
	return &RMSNorm{Weight: weight, Eps: eps}
}

// Params returns the weight under its checkpoint name ("weight").
func (n *RMSNorm) Params() []nn.NamedTensor {
	return []nn.NamedTensor{{Name: "weight", Tensor: n.Weight}}
}

// Forward normalises x [..., d].
func (n *RMSNorm) Forward(x *ts.Tensor) *ts.Tensor {
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
