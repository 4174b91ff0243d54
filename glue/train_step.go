package glue

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// nextBatch draws the epoch's order when a new epoch starts and returns the next batch of example indices.
func (t *Trainer) nextBatch() ([]int, error) {
	if t.order == nil {
		// The PCG stands at t.state.RNG, the state recorded for the start of this epoch.
		perm := EpochOrder(rand.New(t.pcg), len(t.data.Train), true)
		t.order = BatchIndices(perm, t.cfg.BatchSize)
	}
	if t.state.EpochStep >= len(t.order) {
		return nil, fmt.Errorf("train: position %d is past the %d batches of epoch %d", t.state.EpochStep, len(t.order), t.state.Epoch)
	}
	return t.order[t.state.EpochStep], nil
}

// advance moves the position one step on; a finished epoch drops its batch order.
func (t *Trainer) advance() {
	if t.state.Advance(len(t.order), t.pcg) {
		t.order = nil
	}
}

// toTensors moves a batch to the device: ids and mask [B, T] int64, labels [B] int64.
func (t *Trainer) toTensors(b *Batch) (ids, mask, labels *ts.Tensor) {
	dev := t.cfg.Device
	mk := func(v []int64, shape ...int64) *ts.Tensor {
		x := ts.MustOfSlice(v).MustView(shape, true)
		if dev != gotch.CPU {
			x = x.MustTo(dev, true)
		}
		return x
	}
	r, c := int64(b.Rows), int64(b.Cols)
	return mk(b.IDs, r, c), mk(b.Mask, r, c), mk(b.Labels, r)
}

func (t *Trainer) makeBatch(data []Encoded, idx []int) (*Batch, error) {
	cols := t.cfg.MaxLen
	if t.cfg.PadToLongest {
		cols = 0
	}
	return MakeBatch(data, idx, cols, t.data.PadID)
}

// trainStep runs forward, loss, backward, clipping and the optimizer step, and returns the loss. A loss that
// is not finite stops before any update.
func (t *Trainer) trainStep(idx []int, factor float64) (float64, error) {
	b, err := t.makeBatch(t.data.Train, idx)
	if err != nil {
		return 0, err
	}
	if err := nn.ManualSeed(nn.MixSeed(t.cfg.Seed, t.state.Step)); err != nil {
		return 0, err
	}
	ids, mask, labels := t.toTensors(b)
	if err := t.checkInputs(ids, mask); err != nil {
		ids.MustDrop()
		mask.MustDrop()
		labels.MustDrop()
		return 0, err
	}
	logits := t.model.Logits(ids, mask, true)
	ids.MustDrop()
	mask.MustDrop()
	if err := t.checkLogits(logits, b.Rows); err != nil {
		logits.MustDrop()
		labels.MustDrop()
		return 0, err
	}
	loss := logits.MustCrossEntropyLoss(labels, ts.None, ts.ReductionMean, -100, 0, false)
	logits.MustDrop()
	labels.MustDrop()
	v := loss.Float64Values()[0]
	step := t.state.Step + 1
	if math.IsNaN(v) || math.IsInf(v, 0) {
		loss.MustDrop()
		return 0, fmt.Errorf("train: loss is %v at step %d (epoch %d, batch %d); stopped before the update, last good checkpoint: %s",
			v, step, t.state.Epoch, t.state.EpochStep, t.lastCheckpointName())
	}
	t.opt.ZeroGrad()
	loss.MustBackward()
	loss.MustDrop()
	if t.cfg.ClipNorm > 0 {
		norm := loraplus.ClipGradNorm(t.lm.Trainable(), t.cfg.ClipNorm)
		if math.IsNaN(norm) || math.IsInf(norm, 0) {
			return 0, fmt.Errorf("train: gradient norm is %v at step %d; stopped before the update, last good checkpoint: %s",
				norm, step, t.lastCheckpointName())
		}
	}
	FaultPoint("step", step)
	if err := t.opt.Step(factor); err != nil {
		return 0, fmt.Errorf("train: step %d: %w", step, err)
	}
	t.state.LastLoss = v
	return v, nil
}

// inputChecker is implemented by models that can validate a batch before Logits (vocabulary range, length).
type inputChecker interface {
	CheckInputs(ids, mask *ts.Tensor) error
}

// checkInputs lets the model reject a batch with an error instead of a failed libtorch op.
func (t *Trainer) checkInputs(ids, mask *ts.Tensor) error {
	if c, ok := t.model.(inputChecker); ok {
		if err := c.CheckInputs(ids, mask); err != nil {
			return fmt.Errorf("batch does not fit the model: %w", err)
		}
	}
	return nil
}

func (t *Trainer) checkLogits(logits *ts.Tensor, rows int) error {
	s := logits.MustSize()
	if len(s) != 2 || s[0] != int64(rows) || s[1] != int64(t.cfg.Task.NumLabels()) {
		return fmt.Errorf("model returned logits of shape %v, want [%d %d] (batch, %s labels)", s, rows,
			t.cfg.Task.NumLabels(), t.cfg.Task.Name)
	}
	return nil
}

func (t *Trainer) lastCheckpointName() string {
	dirs, _ := listCheckpoints(t.cfg.Out)
	if len(dirs) == 0 {
		return "none"
	}
	return dirs[len(dirs)-1].dir
}
