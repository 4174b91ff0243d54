package instruct

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
)

// TaskType is the PEFT task type of instruction-tuning adapters.
const TaskType = "CAUSAL_LM"

// Trainer finetunes the LoRA adapters of a Llama language model on encoded instruction data: a
// training session (package train) whose loss is the causal-LM loss on the target tokens only. All methods
// except Stop must run on one goroutine locked to its OS thread.
type Trainer struct {
	*train.Session
}

// NewTrainer attaches adapters to model and starts a training session; with cfg.Resume set it
// restores a checkpoint. padID fills batches (its label is IgnoreIndex and its mask 0, so any id in the
// vocabulary does).
func NewTrainer(model *nnllama.ForCausalLM, cfg Config, examples []Encoded, padID int) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if model == nil {
		return nil, fmt.Errorf("instruct: no model")
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("instruct: no training examples")
	}
	vocab := model.Model.Config.VocabSize
	if padID < 0 || padID >= vocab {
		return nil, fmt.Errorf("instruct: pad id %d outside the vocabulary of %d", padID, vocab)
	}
	for i, e := range examples {
		if len(e.InputIDs) != len(e.Labels) || len(e.InputIDs) < 2 {
			return nil, fmt.Errorf("instruct: example %d has %d ids and %d labels (want equal, >= 2)", i, len(e.InputIDs), len(e.Labels))
		}
		for _, id := range e.InputIDs {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("instruct: example %d has token id %d outside the vocabulary of %d", i, id, vocab)
			}
		}
	}
	lm, err := loraplus.Wrap(model, cfg.LoRA)
	if err != nil {
		return nil, fmt.Errorf("instruct: %w", err)
	}
	sc := cfg.Config
	sc.Name, sc.TaskType = "instruct", TaskType
	sc.Settings = map[string]string{"data": cfg.DataName, "max_len": fmt.Sprint(cfg.MaxLen)}
	sc.AdapterInfo = map[string]string{"data": cfg.DataName}
	s, err := train.New(lm, &task{cfg: cfg, model: model, data: examples, padID: padID}, sc)
	if err != nil {
		return nil, err
	}
	return &Trainer{s}, nil
}

// task is the instruction-tuning task of a training session.
type task struct {
	cfg   Config
	model *nnllama.ForCausalLM
	data  []Encoded
	padID int
}

func (c *task) Len() int { return len(c.data) }

// DataFingerprint hashes the training examples' ids and labels (train.DataFingerprinter).
func (c *task) DataFingerprint() string {
	return train.Fingerprint(func(add func(...int)) {
		for _, e := range c.data {
			add(e.InputIDs...)
			add(e.Labels...)
		}
	})
}

// Backward runs the forward pass of the examples b.Indices, right-padded to the longest, with dropout, the
// causal-LM loss on their target tokens, and the backward pass of that loss times the batch's share of the
// step's target tokens (b.All), so that accumulated batches give the step of one batch of all of them, as
// Hugging Face's Trainer does with num_items_in_batch. With gradient
// checkpointing libtorch is reseeded before each decoder layer from b.Seed and the layer index.
func (c *task) Backward(b train.Batch) (train.Loss, error) {
	batch := make([]Encoded, len(b.Indices))
	tokens := 0
	for i, k := range b.Indices {
		batch[i] = c.data[k]
		tokens += len(c.data[k].InputIDs)
	}
	ids, mask, labels := Batch(batch, c.padID)
	if dev := c.cfg.Device; dev != gotch.CPU {
		ids, mask, labels = ids.MustTo(dev, true), mask.MustTo(dev, true), labels.MustTo(dev, true)
	}
	defer func() {
		ids.MustDrop()
		mask.MustDrop()
		labels.MustDrop()
	}()
	share := 1.0 // the batch's share of the step's target tokens: the loss is a mean over them
	if len(b.All) > len(b.Indices) {
		share = float64(c.targets(b.Indices)) / float64(max(c.targets(b.All), 1))
	}
	scale := func(loss *ts.Tensor) *ts.Tensor {
		if share == 1 {
			return loss
		}
		return loss.MustMulScalar(ts.FloatScalar(share), true)
	}
	if c.cfg.GradCheckpoint {
		v, err := c.model.LossAndBackward(ids, mask, func(logits *ts.Tensor) *ts.Tensor {
			return scale(nnllama.CausalLMLoss(logits, labels))
		}, nnllama.BackwardOptions{Train: true, Checkpoint: true, Reseed: func(layer int) error {
			return nn.ManualSeed(nn.MixSeed(b.Seed, layer))
		}})
		return train.Loss{Value: v / share, Tokens: tokens, Share: share}, err
	}
	loss := Loss(c.model, ids, mask, labels, true)
	v := loss.Float64Values()[0]
	loss = scale(loss)
	loss.MustBackward()
	loss.MustDrop()
	return train.Loss{Value: v, Tokens: tokens, Share: share}, nil
}

// targets counts the target tokens of examples idx that the loss scores.
func (c *task) targets(idx []int) int {
	n := 0
	for _, k := range idx {
		n += trained(c.data[k])
	}
	return n
}

// Batch right-pads examples to the longest: ids, attention mask and labels, each [B, T] int64 on
// the CPU; padding has mask 0 and label IgnoreIndex.
func Batch(examples []Encoded, padID int) (ids, mask, labels *ts.Tensor) {
	cols := 0
	for _, e := range examples {
		cols = max(cols, len(e.InputIDs))
	}
	n := len(examples) * cols
	vi, vm, vl := make([]int64, n), make([]int64, n), make([]int64, n)
	for r, e := range examples {
		for c := range cols {
			k := r*cols + c
			if c < len(e.InputIDs) {
				vi[k], vm[k], vl[k] = int64(e.InputIDs[c]), 1, int64(e.Labels[c])
			} else {
				vi[k], vm[k], vl[k] = int64(padID), 0, IgnoreIndex
			}
		}
	}
	shape := []int64{int64(len(examples)), int64(cols)}
	mk := func(v []int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	return mk(vi), mk(vm), mk(vl)
}

// Loss is the loss of a batch: the model's next-token cross-entropy on the positions whose label is
// not IgnoreIndex (a scalar fp32 tensor), as LlamaForCausalLM computes it with labels.
func Loss(m *nnllama.ForCausalLM, ids, mask, labels *ts.Tensor, train bool) *ts.Tensor {
	return m.CausalLMLoss(ids, mask, labels, train)
}
