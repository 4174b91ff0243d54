package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// InputChecker is a model that validates a batch before its forward pass, whose libtorch ops abort the process
// (or fail without an error to return) on ids outside the vocabulary, a bad shape or a bad mask. Every
// sequence classifier of this module implements it; trainers call it on each batch.
type InputChecker interface {
	// CheckInputs validates token ids [B, T] (int64) and an attention mask [B, T] (int64 of 0/1; nil for none).
	CheckInputs(ids, mask *ts.Tensor) error
}

// InputLimits are what a model's embeddings accept.
type InputLimits struct {
	// Vocab bounds the token ids: [0, Vocab).
	Vocab int64
	// MaxLen is the most tokens a sequence may have (the position embeddings); 0 for no limit.
	MaxLen int64
	// Device is the device the inputs must be on; nil when the model moves them itself.
	Device *gotch.Device
}

// CheckInputs validates ids [B, T] and mask [B, T] (int64; mask may be nil) against l.
func CheckInputs(ids, mask *ts.Tensor, l InputLimits) error {
	if ids == nil || !ids.MustDefined() {
		return fmt.Errorf("input ids: nil tensor")
	}
	s := ids.MustSize()
	if len(s) != 2 || s[0] == 0 || s[1] == 0 {
		return fmt.Errorf("input ids: shape %v, want a non-empty [B, T]", s)
	}
	if ids.DType() != gotch.Int64 {
		return fmt.Errorf("input ids: dtype %v, want int64", ids.DType())
	}
	if d := ids.MustDevice(); l.Device != nil && d != *l.Device {
		return fmt.Errorf("input ids: on %v, the model is on %v", d, *l.Device)
	}
	if l.MaxLen > 0 && s[1] > l.MaxLen {
		return fmt.Errorf("input ids: length %d exceeds the model's %d positions", s[1], l.MaxLen)
	}
	lo, hi := MinMax(ids)
	if lo < 0 || hi >= l.Vocab {
		return fmt.Errorf("input ids: values in [%d, %d], outside the vocabulary [0, %d)", lo, hi, l.Vocab)
	}
	if mask == nil {
		return nil
	}
	if ms := mask.MustSize(); !SameShape(ms, s) {
		return fmt.Errorf("attention mask shape %v differs from the ids' shape %v", ms, s)
	}
	if mask.DType() != gotch.Int64 {
		return fmt.Errorf("attention mask: dtype %v, want int64", mask.DType())
	}
	if d := mask.MustDevice(); l.Device != nil && d != *l.Device {
		return fmt.Errorf("attention mask: on %v, the model is on %v", d, *l.Device)
	}
	if lo, hi := MinMax(mask); lo < 0 || hi > 1 {
		return fmt.Errorf("attention mask: values in [%d, %d], want 0 or 1", lo, hi)
	}
	return nil
}

// MinMax returns the smallest and largest element of a non-empty integer tensor.
func MinMax(t *ts.Tensor) (int64, int64) {
	mn, mx := t.MustMin(false).MustTo(gotch.CPU, true), t.MustMax(false).MustTo(gotch.CPU, true)
	defer mn.MustDrop()
	defer mx.MustDrop()
	return mn.Int64Values()[0], mx.Int64Values()[0]
}

// FillNormal fills a tensor with N(0, std²) values from rng, as transformers initialises Linear weights.
func FillNormal(t *ts.Tensor, rng *rand.Rand, std float64) {
	v := Normal(rng, t.MustSize(), 0, std, gotch.CPU)
	d := t.MustDetach(false)
	d.Copy_(v)
	d.MustDrop()
	v.MustDrop()
}

// FillZeros sets a tensor to zero.
func FillZeros(t *ts.Tensor) {
	d := t.MustDetach(false)
	d.MustZero_()
	d.MustDrop()
}
