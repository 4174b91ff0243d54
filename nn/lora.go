package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// LoRAInit chooses which factor of a LoRA adapter starts at zero; either way the adapted layer starts equal to
// the base layer.
type LoRAInit int

const (
	// InitBZero is PyTorch's and PEFT's default, "Init[1]" in the LoRA+ paper: A ~ Kaiming-uniform(a=√5), B = 0.
	// For an embedding adapter, PEFT's default is used instead: A = 0, B ~ N(0, 1).
	InitBZero LoRAInit = iota
	// InitAZero is "Init[2]" in the LoRA+ paper (the default of its authors' code): A = 0,
	// B ~ Kaiming-uniform(a=√5) on its [out, r] shape. For an embedding adapter: B = 0, A ~ N(0, 1).
	InitAZero
)

// String returns the name used in flags and adapter configs.
func (i LoRAInit) String() string {
	switch i {
	case InitBZero:
		return "b-zero"
	case InitAZero:
		return "a-zero"
	}
	return fmt.Sprintf("LoRAInit(%d)", int(i))
}

// ParseLoRAInit parses "b-zero" (default) or "a-zero".
func ParseLoRAInit(s string) (LoRAInit, error) {
	switch s {
	case "b-zero", "":
		return InitBZero, nil
	case "a-zero":
		return InitAZero, nil
	}
	return 0, fmt.Errorf("unknown LoRA init %q (want b-zero or a-zero)", s)
}

// LoRAConfig sets the shape and scaling of an adapter.
type LoRAConfig struct {
	Rank    int     // r > 0
	Alpha   float64 // scaling numerator: s = Alpha/Rank, or Alpha/√Rank with RSLoRA
	Dropout float64 // dropout on the adapter's input during training, in [0, 1)
	RSLoRA  bool    // rank-stabilised scaling
	Init    LoRAInit
	// DoRA turns the adapter of a Linear into a weight-decomposed one (PEFT's use_dora): a trainable magnitude
	// per output row rescales W + s·B·A to m / ‖W + s·B·A‖ per row. Embeddings do not support it.
	DoRA bool
}

// Validate reports a configuration that cannot build an adapter.
func (c LoRAConfig) Validate() error {
	switch {
	case c.Rank <= 0:
		return fmt.Errorf("LoRA rank must be > 0, got %d", c.Rank)
	case math.IsNaN(c.Alpha) || math.IsInf(c.Alpha, 0) || c.Alpha <= 0:
		return fmt.Errorf("LoRA alpha must be a positive number, got %v", c.Alpha)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("LoRA dropout must be in [0, 1), got %v", c.Dropout)
	case c.Init != InitBZero && c.Init != InitAZero:
		return fmt.Errorf("unknown LoRA init %v", c.Init)
	}
	return nil
}

// Scale returns s, the factor applied to B·A.
func (c LoRAConfig) Scale() float64 {
	if c.RSLoRA {
		return c.Alpha / math.Sqrt(float64(c.Rank))
	}
	return c.Alpha / float64(c.Rank)
}

// LoRA is a low-rank adapter: the update s·B·A of a frozen weight.
// For a Linear, A is [r, in] and B is [out, r]. For an Embedding of V rows of width d, A is [r, V] and B is [d, r]
// (PEFT's lora_embedding_A and lora_embedding_B). A and B are fp32 leaves that require grad.
//
// A DoRA adapter (LoRAConfig.DoRA, Linear only) also has Magnitude, m [out], an fp32 leaf that requires grad
// (PEFT's lora_magnitude_vector), initialised to ‖W + s·B·A‖ of each output row of the [out, in] weight. The layer
// then computes y = m/‖W + s·B·A‖ ⊙ (x·Wᵀ + s·B(A(x))) + b, the norm taken without gradient, as PEFT does.
type LoRA struct {
	A         *ts.Tensor
	B         *ts.Tensor
	Magnitude *ts.Tensor // [out] for DoRA, else nil
	Scale     float64
	Dropout   float64
}

// newLoRA creates the factors of an adapter for an update of shape [out, in].
func newLoRA(cfg LoRAConfig, out, in int64, embedding bool, rng *rand.Rand, dev gotch.Device) (*LoRA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := int64(cfg.Rank)
	aShape, bShape := []int64{r, in}, []int64{out, r}
	var a, b *ts.Tensor
	switch {
	case !embedding && cfg.Init == InitBZero:
		a, b = KaimingUniform(rng, aShape, dev), Zeros(bShape, dev)
	case !embedding && cfg.Init == InitAZero:
		a, b = Zeros(aShape, dev), KaimingUniform(rng, bShape, dev)
	case embedding && cfg.Init == InitBZero:
		a, b = Zeros(aShape, dev), Normal(rng, bShape, 0, 1, dev)
	default:
		a, b = Normal(rng, aShape, 0, 1, dev), Zeros(bShape, dev)
	}
	return &LoRA{
		A:       a.MustSetRequiresGrad(true, true),
		B:       b.MustSetRequiresGrad(true, true),
		Scale:   cfg.Scale(),
		Dropout: cfg.Dropout,
	}, nil
}

// Rank returns r.
func (l *LoRA) Rank() int64 { return l.A.MustSize()[0] }

// Delta returns s·B·A as a new [out, in] tensor without autograd history.
func (l *LoRA) Delta() *ts.Tensor {
	a, b := l.A.MustDetach(false), l.B.MustDetach(false)
	d := b.MustMatmul(a, true).MustMulScalar(ts.FloatScalar(l.Scale), true)
	a.MustDrop()
	return d
}

// addTo returns y + s·B(A(dropout(x))) for the frozen layer's output y [..., out] and its input x [..., in],
// consuming y. The adapter computes in fp32. When y is fp32 too, s scales the narrow x·Aᵀ [N, r] and B's product
// is accumulated into y by one addmm, so no [N, out] temporary is made; otherwise the update is computed, cast to
// y's dtype and added.
func (l *LoRA) addTo(y, x *ts.Tensor, train bool) *ts.Tensor {
	h := x
	if x.DType() != l.A.DType() {
		h = x.MustTotype(l.A.DType(), false)
	}
	if train && l.Dropout > 0 {
		d := ts.MustDropout(h, l.Dropout, true)
		if h != x {
			h.MustDrop()
		}
		h = d
	}
	xa := ts.MustLinear(h, l.A, ts.None) // [..., r]
	if h != x {
		h.MustDrop()
	}
	if l.Scale != 1 {
		xa = xa.MustMulScalar(ts.FloatScalar(l.Scale), true)
	}
	if y.DType() != l.B.DType() {
		d := ts.MustLinear(xa, l.B, ts.None).MustTotype(y.DType(), true)
		xa.MustDrop()
		out := y.MustAdd(d, true)
		d.MustDrop()
		return out
	}
	shape := y.MustSize()
	y2 := y.MustReshape([]int64{-1, shape[len(shape)-1]}, true)
	xa2 := xa.MustReshape([]int64{-1, l.Rank()}, true)
	bt := l.B.MustT(false) // [r, out], a view
	out := y2.MustAddmm(xa2, bt, true).MustView(shape, true)
	xa2.MustDrop()
	bt.MustDrop()
	return out
}

// weightNorm returns ‖w + s·B·A‖ of each row of w [out, in] as a new fp32 [out] tensor without autograd history
// (PEFT's DoraLinearLayer.get_weight_norm, detached).
func (l *LoRA) weightNorm(w *ts.Tensor) *ts.Tensor {
	d := l.Delta()
	wf := w.MustDetach(false)
	if wf.DType() != d.DType() {
		wf = wf.MustTotype(d.DType(), true)
	}
	sum := wf.MustAdd(d, true)
	d.MustDrop()
	return sum.MustNormScalaroptDim(ts.FloatScalar(2), []int64{1}, false, true)
}

// initMagnitude sets Magnitude to ‖w + s·B·A‖ per row of w [out, in], as PEFT initialises DoRA.
func (l *LoRA) initMagnitude(w *ts.Tensor) {
	l.Magnitude = l.weightNorm(w).MustSetRequiresGrad(true, true)
}

// doraAddTo returns y + the DoRA correction for the frozen layer's output y [..., out] (with bias b [out] or nil
// added) of input x [..., in] and weight w [out, in], consuming y. As PEFT's DoraLinearVariant computes it, with
// c = m/‖W + s·B·A‖ (the norm detached): without dropout, y + (c − 1)·(y − b) + c·s·B(A(x)); in training with
// dropout x' = dropout(x), y + (c − 1)·(x'·Wᵀ) + c·s·B(A(x')).
func (l *LoRA) doraAddTo(y, x, w, b *ts.Tensor, train bool) *ts.Tensor {
	dt := l.A.DType()
	h := x
	if x.DType() != dt {
		h = x.MustTotype(dt, false)
	}
	wf := w
	if w.DType() != dt {
		wf = w.MustTotype(dt, false)
	}
	norm := l.weightNorm(wf)
	c := l.Magnitude.MustDiv(norm, false) // [out]
	norm.MustDrop()
	var base *ts.Tensor
	if train && l.Dropout > 0 {
		d := ts.MustDropout(h, l.Dropout, true)
		if h != x {
			h.MustDrop()
		}
		h = d
		base = ts.MustLinear(h, wf, ts.None)
	} else {
		base = y.MustTotype(dt, false)
		if b != nil {
			bf := b.MustTotype(dt, false)
			base = base.MustSub(bf, true)
			bf.MustDrop()
		}
	}
	if wf != w {
		wf.MustDrop()
	}
	xa := ts.MustLinear(h, l.A, ts.None)
	if h != x {
		h.MustDrop()
	}
	lr := ts.MustLinear(xa, l.B, ts.None) // [..., out]
	xa.MustDrop()
	c1 := c.MustSubScalar(ts.FloatScalar(1), false)
	t := base.MustMul(c1, true) // (c − 1)·base
	c1.MustDrop()
	u := lr.MustMul(c, true).MustMulScalar(ts.FloatScalar(l.Scale), true) // c·lora·s
	c.MustDrop()
	d := t.MustAdd(u, true)
	u.MustDrop()
	if d.DType() != y.DType() {
		d = d.MustTotype(y.DType(), true)
	}
	out := y.MustAdd(d, true)
	d.MustDrop()
	return out
}
