package nn

import (
	"errors"
	"math/rand/v2"

	"github.com/sugarme/gotch/ts"
)

// Embedding is a frozen lookup table that can carry a LoRA adapter, as PEFT's lora.Embedding:
// y = W[ids] + s·(Aᵀ[ids])·Bᵀ, with W [V, d], A [r, V] and B [d, r]. The adapter has no dropout.
type Embedding struct {
	Weight     *ts.Tensor
	PaddingIdx int64 // -1 for none; only affects gradients, as in PyTorch
	LoRA       *LoRA
	merged     bool
}

// NewEmbedding wraps a frozen [V, d] table.
func NewEmbedding(weight *ts.Tensor) *Embedding { return &Embedding{Weight: weight, PaddingIdx: -1} }

// Params returns the frozen table under its checkpoint name ("weight").
func (e *Embedding) Params() []NamedTensor { return []NamedTensor{{"weight", e.Weight}} }

// Adapter returns the layer's adapter, or nil.
func (e *Embedding) Adapter() *LoRA { return e.LoRA }

// AddLoRA attaches a new adapter (PEFT's lora_embedding_A/lora_embedding_B).
func (e *Embedding) AddLoRA(cfg LoRAConfig, rng *rand.Rand) error {
	if e.LoRA != nil {
		return errors.New("layer already has a LoRA adapter")
	}
	if cfg.DoRA {
		return errors.New("DoRA is supported on Linear layers only, not on an Embedding")
	}
	s := e.Weight.MustSize()
	cfg.Dropout = 0
	a, err := newLoRA(cfg, s[1], s[0], true, rng, e.Weight.MustDevice())
	if err != nil {
		return err
	}
	e.LoRA = a
	return nil
}

// ForwardT is Forward (an embedding has no dropout): gotch's ts.ModuleT.
func (e *Embedding) ForwardT(ids *ts.Tensor, train bool) *ts.Tensor { return e.Forward(ids) }

// Forward maps ids [...] (int64) to [..., d].
func (e *Embedding) Forward(ids *ts.Tensor) *ts.Tensor {
	y := ts.MustEmbedding(e.Weight, ids, e.PaddingIdx, false, false)
	if e.LoRA == nil || e.merged {
		return y
	}
	at := e.LoRA.A.MustT(false) // [V, r]
	xa := ts.MustEmbedding(at, ids, e.PaddingIdx, false, false)
	at.MustDrop()
	d := ts.MustLinear(xa, e.LoRA.B, ts.None).MustMulScalar(ts.FloatScalar(e.LoRA.Scale), true)
	xa.MustDrop()
	if d.DType() != y.DType() {
		d = d.MustTotype(y.DType(), true)
	}
	out := y.MustAdd(d, true)
	d.MustDrop()
	return out
}

// Merge folds s·(B·A)ᵀ into the table.
func (e *Embedding) Merge() error {
	if e.LoRA == nil {
		return errors.New("merge: embedding has no LoRA adapter")
	}
	if e.merged {
		return errors.New("merge: adapter is already merged")
	}
	e.addDelta(false)
	e.merged = true
	return nil
}

// Unmerge takes the adapter's update out of the table again.
func (e *Embedding) Unmerge() error {
	if !e.merged {
		return errors.New("unmerge: adapter is not merged")
	}
	e.addDelta(true)
	e.merged = false
	return nil
}

// Merged reports whether the adapter is folded into the table.
func (e *Embedding) Merged() bool { return e.merged }

func (e *Embedding) addDelta(neg bool) {
	d := e.LoRA.Delta().MustT(true) // [V, d]
	if neg {
		d = d.MustNeg(true)
	}
	if d.DType() != e.Weight.DType() {
		d = d.MustTotype(e.Weight.DType(), true)
	}
	w := e.Weight.MustDetach(false)
	w.MustAdd_(d)
	w.MustDrop()
	d.MustDrop()
}
