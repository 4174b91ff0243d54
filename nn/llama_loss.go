package nn

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// LlamaIgnoreIndex marks label positions that LlamaCausalLMLoss skips (transformers' -100).
const LlamaIgnoreIndex = -100

// LlamaCausalLMLoss returns the mean next-token cross-entropy (a scalar, fp32) of logits [B, T, V] against labels
// [B, T] (int64), as LlamaForCausalLM computes its loss: position t is scored on labels[t+1], and labels equal to
// LlamaIgnoreIndex (padding, prompt tokens) are skipped. T must be at least 2; a batch with every label ignored
// gives NaN, as in PyTorch.
func LlamaCausalLMLoss(logits, labels *ts.Tensor) *ts.Tensor {
	s := logits.MustSize()
	B, T, V := s[0], s[1], s[2]
	x := logits.MustNarrow(1, 0, T-1, false).MustReshape([]int64{B * (T - 1), V}, true)
	if x.DType() != gotch.Float {
		x = x.MustTotype(gotch.Float, true)
	}
	y := labels.MustNarrow(1, 1, T-1, false).MustReshape([]int64{B * (T - 1)}, true)
	if y.MustDevice().CInt() != x.MustDevice().CInt() {
		y = y.MustTo(x.MustDevice(), true)
	}
	loss := x.MustCrossEntropyLoss(y, ts.None, 1, LlamaIgnoreIndex, 0, true)
	y.MustDrop()
	return loss
}

// CausalLMLoss returns the mean next-token cross-entropy (a scalar, fp32) of ids [B, T] against labels [B, T],
// equal to LlamaCausalLMLoss(m.Logits(ids, mask, train), labels), but the output layer runs on positions 0…T-2
// only, the ones that are scored: no logits for the last position and no shifted copy of the [B, T, vocab]
// logits, in the forward or the backward pass.
func (m *LlamaForCausalLM) CausalLMLoss(ids, mask, labels *ts.Tensor, train bool) *ts.Tensor {
	h := m.Model.Forward(ids, mask, train)
	s := h.MustSize()
	B, T := s[0], s[1]
	y := m.head(h.MustNarrow(1, 0, T-1, true), train) // [B, T-1, vocab]: the scored positions
	x := y.MustReshape([]int64{B * (T - 1), -1}, true)
	t := labels.MustNarrow(1, 1, T-1, false).MustReshape([]int64{B * (T - 1)}, true)
	if t.MustDevice().CInt() != x.MustDevice().CInt() {
		t = t.MustTo(x.MustDevice(), true)
	}
	loss := x.MustCrossEntropyLoss(t, ts.None, 1, LlamaIgnoreIndex, 0, true)
	t.MustDrop()
	return loss
}
