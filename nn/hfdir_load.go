package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// HFLoadOptions choose how a sequence classifier is built from a Hugging Face model directory.
type HFLoadOptions struct {
	// NumLabels is the number of classes; 0 takes it from config.json (the size of id2label, 2 when absent).
	NumLabels int
	// DType is the dtype the model computes in: gotch.Float, gotch.Half, gotch.BFloat16 or gotch.Double.
	// Checkpoint tensors are converted to it as they load.
	DType gotch.DType
	// Device holds the model.
	Device gotch.Device
	// PadTokenID, when set, replaces config.json's pad_token_id (GPT-2 checkpoints have none: the GLUE
	// scripts use the eos token, 50256).
	PadTokenID *int64
	// Seed seeds the initialisation of a head the checkpoint does not have.
	Seed uint64
}

// DefaultHFLoadOptions builds an fp32 model on the CPU with the number of classes of config.json.
func DefaultHFLoadOptions() HFLoadOptions {
	return HFLoadOptions{DType: gotch.Float, Device: gotch.CPU, Seed: 1}
}

// hfLoadWithHead loads a classifier from src. The head tensors (model names) are either all in the checkpoint
// or all absent; when absent, initHead fills them. Every other tensor of the model must be present.
func hfLoadWithHead(model any, src TensorSource, head []NamedTensor, o LoadOptions, initHead func()) error {
	present := map[string]bool{}
	for _, n := range src.Names() {
		if matchAny(n, o.Ignore) {
			continue
		}
		if o.Rename != nil {
			n = o.Rename(n)
		}
		present[n] = true
	}
	found := 0
	for _, h := range head {
		if present[h.Name] {
			found++
		}
	}
	if found == 0 {
		for _, h := range head {
			o.Optional = append(o.Optional, h.Name)
		}
	}
	if err := LoadState(model, src, o); err != nil {
		return err
	}
	if found == 0 {
		initHead()
	}
	return nil
}

// hfInitNormal fills a tensor with N(0, std²) values from rng, as transformers initialises Linear weights.
func hfInitNormal(t *ts.Tensor, rng *rand.Rand, std float64) {
	v := Normal(rng, t.MustSize(), 0, std, gotch.CPU)
	d := t.MustDetach(false)
	d.Copy_(v)
	d.MustDrop()
	v.MustDrop()
}

// hfInitZeros sets a tensor to zero.
func hfInitZeros(t *ts.Tensor) {
	d := t.MustDetach(false)
	d.MustZero_()
	d.MustDrop()
}

// hfCheckInputs validates ids [B, T] and mask [B, T] (int64; mask may be nil) against a vocabulary of vocab
// tokens, sequences of at most maxLen and the model's device.
func hfCheckInputs(ids, mask *ts.Tensor, vocab, maxLen int64, dev gotch.Device) error {
	if ids == nil {
		return fmt.Errorf("input ids: nil tensor")
	}
	s := ids.MustSize()
	if len(s) != 2 || s[0] == 0 || s[1] == 0 {
		return fmt.Errorf("input ids: shape %v, want [batch, length] with both > 0", s)
	}
	if ids.DType() != gotch.Int64 {
		return fmt.Errorf("input ids: dtype %v, want int64", ids.DType())
	}
	if d := ids.MustDevice(); d != dev {
		return fmt.Errorf("input ids: on %v, the model is on %v", d, dev)
	}
	if s[1] > maxLen {
		return fmt.Errorf("input ids: length %d exceeds the model's %d positions", s[1], maxLen)
	}
	lo, hi := hfMinMax(ids)
	if lo < 0 || hi >= vocab {
		return fmt.Errorf("input ids: values in [%d, %d], outside the vocabulary [0, %d)", lo, hi, vocab)
	}
	if mask == nil {
		return nil
	}
	if ms := mask.MustSize(); !equalShapes(ms, s) {
		return fmt.Errorf("attention mask: shape %v, want %v like the ids", ms, s)
	}
	if mask.DType() != gotch.Int64 {
		return fmt.Errorf("attention mask: dtype %v, want int64", mask.DType())
	}
	if d := mask.MustDevice(); d != dev {
		return fmt.Errorf("attention mask: on %v, the model is on %v", d, dev)
	}
	if lo, hi := hfMinMax(mask); lo < 0 || hi > 1 {
		return fmt.Errorf("attention mask: values in [%d, %d], want 0 or 1", lo, hi)
	}
	return nil
}

// hfMinMax returns the smallest and largest element of a non-empty integer tensor.
func hfMinMax(t *ts.Tensor) (int64, int64) {
	mn, mx := t.MustMin(false).MustTo(gotch.CPU, true), t.MustMax(false).MustTo(gotch.CPU, true)
	defer mn.MustDrop()
	defer mx.MustDrop()
	return mn.Int64Values()[0], mx.Int64Values()[0]
}
