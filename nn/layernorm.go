package nn

import "github.com/sugarme/gotch/ts"

// LayerNorm normalises the last dimension: y = (x − mean)/√(var + eps)·Weight + Bias, with Weight and Bias [d].
type LayerNorm struct {
	Weight *ts.Tensor
	Bias   *ts.Tensor // nil for none
	Eps    float64
}

// NewLayerNorm wraps [d] weight and bias.
func NewLayerNorm(weight, bias *ts.Tensor, eps float64) *LayerNorm {
	return &LayerNorm{Weight: weight, Bias: bias, Eps: eps}
}

// Params returns the tensors under their checkpoint names ("weight", "bias").
func (l *LayerNorm) Params() []NamedTensor {
	p := []NamedTensor{{"weight", l.Weight}}
	if l.Bias != nil {
		p = append(p, NamedTensor{"bias", l.Bias})
	}
	return p
}

// ForwardT is Forward (a LayerNorm has no dropout): gotch's ts.ModuleT.
func (l *LayerNorm) ForwardT(x *ts.Tensor, train bool) *ts.Tensor { return l.Forward(x) }

// Forward normalises x [..., d].
func (l *LayerNorm) Forward(x *ts.Tensor) *ts.Tensor {
	b := l.Bias
	if b == nil {
		b = ts.None
	}
	return ts.MustLayerNorm(x, l.Weight.MustSize(), l.Weight, b, l.Eps, false)
}
