package llama

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// IgnoreIndex marks label positions that CausalLMLoss skips (transformers' -100).
const IgnoreIndex = -100

// CausalLMLoss returns the mean next-token cross-entropy (a scalar, fp32) of logits [B, T, V] against labels
// [B, T] (int64), as ForCausalLM computes its loss: position t is scored on labels[t+1], and labels equal to
// IgnoreIndex (padding, prompt tokens) are skipped. T must be at least 2; a batch with every label ignored
// gives NaN, as in PyTorch.
func CausalLMLoss(logits, labels *ts.Tensor) *ts.Tensor {
	T := logits.MustSize()[1]
	x := logits.MustNarrow(1, 0, T-1, false)
	if x.DType() != gotch.Float {
		x = x.MustTotype(gotch.Float, true)
	}
	return llamaShiftedLoss(x, labels)
}

// CausalLMLoss returns the mean next-token cross-entropy (a scalar, fp32) of ids [B, T] against labels [B, T],
// equal to CausalLMLoss(m.Logits(ids, mask, train), labels), but the output layer runs on positions 0…T-2
// only, the ones that are scored: no logits for the last position and no shifted copy of the [B, T, vocab]
// logits, in the forward or the backward pass.
func (m *ForCausalLM) CausalLMLoss(ids, mask, labels *ts.Tensor, train bool) *ts.Tensor {
	h := m.Model.Forward(ids, mask, train)
	T := h.MustSize()[1]
	return llamaShiftedLoss(m.head(h.MustNarrow(1, 0, T-1, true), train), labels)
}

// llamaShiftedLoss scores x [B, T-1, V] (fp32 logits of positions 0…T-2, consumed) on labels[:, 1:] of labels
// [B, T], skipping IgnoreIndex.
func llamaShiftedLoss(x, labels *ts.Tensor) *ts.Tensor {
	s := x.MustSize()
	n := s[0] * s[1]
	flat := x.MustReshape([]int64{n, s[2]}, true)
	y := labels.MustNarrow(1, 1, s[1], false).MustReshape([]int64{n}, true)
	if y.MustDevice().CInt() != flat.MustDevice().CInt() {
		y = y.MustTo(flat.MustDevice(), true)
	}
	loss := flat.MustCrossEntropyLoss(y, ts.None, 1, IgnoreIndex, 0, true)
	y.MustDrop()
	return loss
}
