package llama

import (
	"fmt"
	"math"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// BackwardOptions choose how LossAndBackward runs a training step's forward and backward pass.
type BackwardOptions struct {
	// Train enables attention and adapter dropout.
	Train bool
	// Checkpoint turns gradient checkpointing on: the decoder layers run without autograd, keeping only each
	// layer's input hidden state [B, T, hidden], and each layer's forward is recomputed with autograd during the
	// backward pass, one layer at a time. Activation memory then grows with one layer instead of all of them, for
	// about one extra forward pass of compute. The loss and gradients equal those of the full graph.
	Checkpoint bool
	// Reseed, when set, is called with the layer index before each decoder layer runs, and again before its
	// recomputation, to seed libtorch's generators. With dropout, checkpointing needs it: the recomputation must
	// draw the masks of the first pass. The full graph calls it at the same points, so both modes draw the same
	// masks.
	Reseed func(layer int) error
}

// llamaStep holds what a training step shares across layers: ids on the device, rotary tables, the mask (nil:
// causal without padding).
type llamaStep struct {
	ids, cos, sin, attn *ts.Tensor
	ownIDs              bool
}

func (m *Model) newStep(ids, mask *ts.Tensor) *llamaStep {
	s := ids.MustSize()
	st := &llamaStep{ids: ids}
	if ids.MustDevice().CInt() != m.device.CInt() {
		st.ids, st.ownIDs = ids.MustTo(m.device, false), true
	}
	st.cos, st.sin = m.Rotary.CosSin(s[1], m.dtype, m.device)
	st.attn = m.attentionMask(mask, s[0], s[1])
	return st
}

func (st *llamaStep) drop() {
	if st.ownIDs {
		st.ids.MustDrop()
	}
	st.cos.MustDrop()
	st.sin.MustDrop()
	if st.attn != nil {
		st.attn.MustDrop()
	}
}

// embed returns the input embeddings [B, T, hidden] in the model's dtype.
func (m *Model) embed(st *llamaStep) *ts.Tensor {
	h := m.EmbedTokens.Forward(st.ids)
	if h.DType() != m.dtype {
		h = h.MustTotype(m.dtype, true)
	}
	return h
}

// layer runs decoder layer i on h after reseeding.
func (m *Model) layer(i int, h *ts.Tensor, st *llamaStep, o BackwardOptions) (*ts.Tensor, error) {
	if o.Reseed != nil {
		if err := o.Reseed(i); err != nil {
			return nil, fmt.Errorf("llama: layer %d: %w", i, err)
		}
	}
	return m.Layers[i].Forward(h, st.cos, st.sin, st.attn, o.Train), nil
}

// llamaHead maps the last layer's output [B, T, hidden] to the loss of a training step.
type llamaHead func(h *ts.Tensor, st *llamaStep) *ts.Tensor

// lossAndBackward runs the step with the full graph or with checkpointing and returns the loss. The backward
// pass is skipped when the loss is not finite, so the gradients stay as they were.
func (m *Model) lossAndBackward(ids, mask *ts.Tensor, head llamaHead, o BackwardOptions) (float64, error) {
	if err := m.CheckInputs(ids, mask); err != nil {
		return 0, err
	}
	st := m.newStep(ids, mask)
	defer st.drop()
	if o.Checkpoint {
		return m.checkpointed(st, head, o)
	}
	h := m.embed(st)
	for i := range m.Layers {
		next, err := m.layer(i, h, st, o)
		h.MustDrop()
		if err != nil {
			return 0, err
		}
		h = next
	}
	loss := head(h, st)
	h.MustDrop()
	return llamaBackwardLoss(loss)
}

// llamaBackwardLoss reads a scalar loss, backpropagates it when it is finite, and drops it.
func llamaBackwardLoss(loss *ts.Tensor) (float64, error) {
	defer loss.MustDrop()
	if n := loss.Numel(); n != 1 {
		return 0, fmt.Errorf("llama: the loss function returned %d values, want a scalar", n)
	}
	v := loss.MustTo(gotch.CPU, false).MustTotype(gotch.Double, true)
	f := v.Float64Values(true)[0]
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f, nil
	}
	loss.MustBackward()
	return f, nil
}

// llamaLeaf returns a detached copy of x that requires grad, the start of one recomputed segment.
func llamaLeaf(x *ts.Tensor) *ts.Tensor {
	y := x.MustDetach(false)
	y.MustRequiresGrad_(true)
	return y
}

// checkpointed runs the two-pass scheme: layers without autograd keeping their inputs, the head and loss with
// autograd from the last hidden state, then each layer recomputed from the last, its output's gradient g pushed
// through with (out·g).sum().backward(), and finally the embedding's adapter.
func (m *Model) checkpointed(st *llamaStep, head llamaHead, o BackwardOptions) (float64, error) {
	n := len(m.Layers)
	inputs := make([]*ts.Tensor, 0, n)
	defer func() {
		for _, x := range inputs {
			x.MustDrop()
		}
	}()
	var last *ts.Tensor
	var err error
	nn.NoGrad(func() {
		h := m.embed(st)
		for i := range m.Layers {
			inputs = append(inputs, h)
			if h, err = m.layer(i, h, st, o); err != nil {
				return
			}
		}
		last = h
	})
	if err != nil {
		return 0, err
	}
	x := llamaLeaf(last)
	last.MustDrop()
	loss, err := llamaBackwardLoss(head(x, st))
	if err != nil || math.IsNaN(loss) || math.IsInf(loss, 0) {
		x.MustDrop()
		return loss, err
	}
	g := x.MustGrad(false)
	x.MustDrop()
	for i := n - 1; i >= 0; i-- {
		x := llamaLeaf(inputs[i])
		inputs[i].MustDrop()
		inputs = inputs[:i]
		y, err := m.layer(i, x, st, o)
		if err != nil {
			x.MustDrop()
			g.MustDrop()
			return 0, err
		}
		llamaPushGrad(y, g)
		g.MustDrop()
		g = x.MustGrad(false)
		x.MustDrop()
	}
	defer g.MustDrop()
	e := m.EmbedTokens
	if e.LoRA != nil || e.Weight.MustRequiresGrad() {
		llamaPushGrad(m.embed(st), g)
	}
	return loss, nil
}

// llamaPushGrad backpropagates the gradient g of a segment's output y ((y·g).sum().backward()) and drops y.
func llamaPushGrad(y, g *ts.Tensor) {
	s := y.MustMul(g, true).MustSum(gotch.Float, true)
	s.MustBackward()
	s.MustDrop()
}

// LossAndBackward runs a training step's forward pass, lossFn on the logits [B, T, vocab] (fp32; it must
// return a scalar and must not drop the logits), and the backward pass that accumulates the gradients of every
// tensor that requires grad (the adapters); with o.Checkpoint the layers are checkpointed. It returns the loss;
// when the loss is not finite no gradient is touched. ids and mask are as for Logits. Call it on a goroutine
// locked to its OS thread (grad mode belongs to the thread).
func (m *ForCausalLM) LossAndBackward(ids, mask *ts.Tensor, lossFn func(logits *ts.Tensor) *ts.Tensor, o BackwardOptions) (float64, error) {
	return m.Model.lossAndBackward(ids, mask, func(h *ts.Tensor, _ *llamaStep) *ts.Tensor {
		y := m.head(m.Model.Norm.Forward(h), o.Train)
		loss := lossFn(y)
		y.MustDrop()
		return loss
	}, o)
}

// LossAndBackward runs a training step's forward pass, lossFn on the class logits [B, num_labels] (fp32; it
// must return a scalar and must not drop the logits), and the backward pass that accumulates the gradients of
// the adapters and the score head; with o.Checkpoint the layers are checkpointed. It returns the loss; when the
// loss is not finite no gradient is touched. ids and mask are as for Logits. Call it on a goroutine locked to
// its OS thread.
func (m *ForSequenceClassification) LossAndBackward(ids, mask *ts.Tensor, lossFn func(logits *ts.Tensor) *ts.Tensor, o BackwardOptions) (float64, error) {
	return m.Model.lossAndBackward(ids, mask, func(h *ts.Tensor, st *llamaStep) *ts.Tensor {
		n := m.Model.Norm.Forward(h)
		last := m.lastTokens(st.ids, mask, n.MustSize()[1])
		pooled := nn.RowsAt(n, last).MustSelect(1, 0, true) // [B, hidden]
		n.MustDrop()
		last.MustDrop()
		if pooled.DType() != gotch.Float {
			pooled = pooled.MustTotype(gotch.Float, true)
		}
		y := m.Score.ForwardT(pooled, o.Train)
		pooled.MustDrop()
		loss := lossFn(y)
		y.MustDrop()
		return loss
	}, o)
}

// CheckpointBackward is LossAndBackward with dropout and checkpointing (nn.Checkpointer), for trainers that take
// any classifier.
func (m *ForSequenceClassification) CheckpointBackward(ids, mask *ts.Tensor, lossFn func(logits *ts.Tensor) *ts.Tensor, reseed func(layer int) error) (float64, error) {
	return m.LossAndBackward(ids, mask, lossFn, BackwardOptions{Train: true, Checkpoint: true, Reseed: reseed})
}

var _ nn.Checkpointer = (*ForSequenceClassification)(nil)
