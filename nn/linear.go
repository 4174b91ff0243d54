package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/sugarme/gotch/ts"
)

// Linear is a frozen affine layer y = x·Wᵀ + b that can carry a LoRA adapter:
// y = x·Wᵀ + b + s·B(A(dropout(x))), or a DoRA adapter (see LoRA).
//
// Weight is [out, in] (PyTorch nn.Linear), or [in, out] when Transposed (Hugging Face's Conv1D, used by GPT-2).
// Bias is [out] or nil.
type Linear struct {
	Weight     *ts.Tensor
	Bias       *ts.Tensor
	Transposed bool
	LoRA       *LoRA
	merged     bool
	doraNorm   *ts.Tensor // [out]: ‖W + s·B·A‖ of the unmerged weight while a DoRA adapter is merged
}

// NewLinear wraps frozen weights; bias may be nil.
func NewLinear(weight, bias *ts.Tensor) *Linear { return &Linear{Weight: weight, Bias: bias} }

// NewConv1D wraps a GPT-2 style Conv1D whose weight is stored [in, out].
func NewConv1D(weight, bias *ts.Tensor) *Linear {
	return &Linear{Weight: weight, Bias: bias, Transposed: true}
}

// Dims returns the input and output widths.
func (l *Linear) Dims() (in, out int64) {
	s := l.Weight.MustSize()
	if l.Transposed {
		return s[0], s[1]
	}
	return s[1], s[0]
}

// Params returns the frozen tensors under their checkpoint names ("weight", "bias").
func (l *Linear) Params() []NamedTensor {
	p := []NamedTensor{{"weight", l.Weight}}
	if l.Bias != nil {
		p = append(p, NamedTensor{"bias", l.Bias})
	}
	return p
}

// Adapter returns the layer's adapter, or nil.
func (l *Linear) Adapter() *LoRA { return l.LoRA }

// AddLoRA attaches a new adapter. Its tensors live on the weight's device.
func (l *Linear) AddLoRA(cfg LoRAConfig, rng *rand.Rand) error {
	if l.LoRA != nil {
		return errors.New("layer already has a LoRA adapter")
	}
	in, out := l.Dims()
	a, err := newLoRA(cfg, out, in, false, rng, l.Weight.MustDevice())
	if err != nil {
		return err
	}
	if cfg.DoRA {
		w := l.outIn()
		a.initMagnitude(w)
		w.MustDrop()
	}
	l.LoRA = a
	return nil
}

// outIn returns the weight as [out, in] (a view of it when Transposed), without autograd history.
func (l *Linear) outIn() *ts.Tensor {
	w := l.Weight.MustDetach(false)
	if l.Transposed {
		return w.MustT(true)
	}
	return w
}

// Linear, Embedding and LayerNorm are gotch modules: they drop into gotch's nn.Sequential and nn.SequentialT, and
// a gotch model that calls them runs their adapters.
var (
	_ ts.Module  = (*Linear)(nil)
	_ ts.ModuleT = (*Linear)(nil)
	_ ts.Module  = (*Embedding)(nil)
	_ ts.ModuleT = (*Embedding)(nil)
	_ ts.Module  = (*LayerNorm)(nil)
	_ ts.ModuleT = (*LayerNorm)(nil)
)

// Forward maps x [..., in] to [..., out] in evaluation mode (no adapter dropout): gotch's ts.Module.
func (l *Linear) Forward(x *ts.Tensor) *ts.Tensor { return l.ForwardT(x, false) }

// ForwardT maps x [..., in] to [..., out]; train enables the adapter's dropout: gotch's ts.ModuleT.
func (l *Linear) ForwardT(x *ts.Tensor, train bool) *ts.Tensor {
	var y *ts.Tensor
	switch {
	case l.Transposed && l.Bias != nil:
		// GPT-2's Conv1D: bias + x·W in one addmm over the flattened rows, as transformers computes it
		s := x.MustSize()
		rows := x.MustReshape([]int64{-1, s[len(s)-1]}, false)
		y2 := l.Bias.MustAddmm(rows, l.Weight, false) // [N, out]
		rows.MustDrop()
		shape := append(s[:len(s)-1:len(s)-1], y2.MustSize()[1])
		y = y2.MustView(shape, true)
	case l.Transposed:
		y = x.MustMatmul(l.Weight, false)
	default:
		b := l.Bias
		if b == nil {
			b = ts.None
		}
		y = ts.MustLinear(x, l.Weight, b)
	}
	if l.LoRA == nil || l.merged {
		return y
	}
	if l.LoRA.Magnitude != nil {
		w := l.Weight
		if l.Transposed {
			w = l.Weight.MustT(false)
			defer w.MustDrop()
		}
		return l.LoRA.doraAddTo(y, x, w, l.Bias, train)
	}
	return l.LoRA.addTo(y, x, train)
}

// Merged reports whether the adapter is folded into the weight.
func (l *Linear) Merged() bool { return l.merged }

// Merge folds s·B·A into the frozen weight, so Forward costs one matmul; Unmerge takes it out again.
// A DoRA adapter is folded as PEFT merges it: W' = m/‖W + s·B·A‖ ⊙ (W + s·B·A) per output row; Unmerge divides
// by the same factor (the norm kept from Merge) and subtracts s·B·A.
func (l *Linear) Merge() error {
	if l.LoRA == nil {
		return errors.New("merge: layer has no LoRA adapter")
	}
	if l.merged {
		return errors.New("merge: adapter is already merged")
	}
	if l.LoRA.Magnitude != nil {
		l.mergeDoRA()
	} else {
		l.addDelta(1)
	}
	l.merged = true
	return nil
}

// Unmerge subtracts the adapter's update from the weight again.
func (l *Linear) Unmerge() error {
	if !l.merged {
		return errors.New("unmerge: adapter is not merged")
	}
	if l.LoRA.Magnitude != nil {
		l.unmergeDoRA()
	} else {
		l.addDelta(-1)
	}
	l.merged = false
	return nil
}

// doraFactor returns m/norm as [out, 1], without autograd history.
func (l *Linear) doraFactor(norm *ts.Tensor) *ts.Tensor {
	m := l.LoRA.Magnitude.MustDetach(false)
	return m.MustDiv(norm, true).MustUnsqueeze(1, true)
}

// setOutIn writes w [out, in] (fp32) into the weight in its layout and dtype, consuming w.
func (l *Linear) setOutIn(w *ts.Tensor) {
	if l.Transposed {
		w = w.MustT(true)
	}
	dst := l.Weight.MustDetach(false)
	dst.Copy_(w)
	dst.MustDrop()
	w.MustDrop()
}

func (l *Linear) mergeDoRA() {
	w := l.outIn()
	l.doraNorm = l.LoRA.weightNorm(w)
	f := l.doraFactor(l.doraNorm)
	d := l.LoRA.Delta()
	wf := w.MustTotype(d.DType(), true).MustAdd(d, true).MustMul(f, true)
	d.MustDrop()
	f.MustDrop()
	l.setOutIn(wf)
}

func (l *Linear) unmergeDoRA() {
	w := l.outIn()
	f := l.doraFactor(l.doraNorm)
	d := l.LoRA.Delta()
	wf := w.MustTotype(d.DType(), true).MustDiv(f, true).MustSub(d, true)
	d.MustDrop()
	f.MustDrop()
	l.doraNorm.MustDrop()
	l.doraNorm = nil
	l.setOutIn(wf)
}

func (l *Linear) addDelta(sign float64) {
	d := l.LoRA.Delta()
	if l.Transposed {
		d = d.MustT(true)
	}
	if sign < 0 {
		d = d.MustNeg(true)
	}
	if d.DType() != l.Weight.DType() {
		d = d.MustTotype(l.Weight.DType(), true)
	}
	w := l.Weight.MustDetach(false)
	w.MustAdd_(d)
	w.MustDrop()
	d.MustDrop()
}

// String describes the layer for plans and logs.
func (l *Linear) String() string {
	in, out := l.Dims()
	s := fmt.Sprintf("Linear(%d→%d", in, out)
	if l.LoRA != nil {
		kind := "LoRA"
		if l.LoRA.Magnitude != nil {
			kind = "DoRA"
		}
		s += fmt.Sprintf(", %s r=%d s=%g", kind, l.LoRA.Rank(), l.LoRA.Scale)
	}
	return s + ")"
}
