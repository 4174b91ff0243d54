package nn

import (
	"fmt"

	"github.com/sugarme/gotch/ts"
)

// Activation is an activation function of transformers' ACT2FN; it drops its input.
type Activation func(x *ts.Tensor) *ts.Tensor

// ParseActivation returns the activation named in a config.json.
func ParseActivation(name string) (Activation, error) {
	switch name {
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), all three spellings of the same formula
		return func(x *ts.Tensor) *ts.Tensor { return x.MustGelu("tanh", true) }, nil
	case "gelu":
		return func(x *ts.Tensor) *ts.Tensor { return x.MustGelu("none", true) }, nil
	case "relu":
		return func(x *ts.Tensor) *ts.Tensor { return x.MustRelu(true) }, nil
	case "tanh":
		return func(x *ts.Tensor) *ts.Tensor { return x.MustTanh(true) }, nil
	}
	return nil, fmt.Errorf("unsupported activation function %q (want gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu or tanh)", name)
}
