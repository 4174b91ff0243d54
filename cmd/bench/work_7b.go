package main

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
)

// llama7bWorkload trains the Llama checkpoint of o.Model (scripts/make_llama7b.py's Llama-2-7B shape) as the
// commands do at that scale: base weights in o.DType on o.Device, loaded shard by shard; LoRA r=16, alpha 32,
// dropout 0 on the seven projections (fp32 adapters); gradient checkpointing with o.GradCkpt; LoRA+ AdamW
// (lr 1e-4, ratio 16), gradients clipped at 1. Row llama7b-cls is sequence classification with 3 labels (MNLI, the
// new score head trained in fp32, as cmd/glue), llama7b-lm the causal-LM loss on every token (cmd/llama).
// Ids [B, T] are random, without padding, so the attention is causal without a mask.
func llama7bWorkload(o WorkerOptions) (*workload, error) {
	if o.Model == "" {
		return nil, fmt.Errorf("%s: no checkpoint directory (pass -llama7b DIR; scripts/make_llama7b.py makes one)", o.Row)
	}
	dev, err := o.dev()
	if err != nil {
		return nil, err
	}
	dt, err := o.dtype()
	if err != nil {
		return nil, err
	}
	lo := nnllama.Options{DType: dt, Device: dev, NumLabels: 3, Seed: 1}
	b, t := int64(o.Batch), int64(o.Seq)
	bo := nnllama.BackwardOptions{Train: true, Checkpoint: o.GradCkpt}
	var model any
	var backward func(ids *ts.Tensor) (float64, error)
	var vocab int64
	var head []nn.NamedTensor
	switch o.Row {
	case "llama7b-cls":
		m, err := nnllama.LoadForSequenceClassification(o.Model, lo)
		if err != nil {
			return nil, err
		}
		labels := ts.MustRandint(3, []int64{b}, gotch.Int64, dev)
		model, vocab, head = m, int64(m.Model.Config.VocabSize), m.Head()
		backward = func(ids *ts.Tensor) (float64, error) {
			return m.LossAndBackward(ids, nil, func(logits *ts.Tensor) *ts.Tensor {
				return logits.MustCrossEntropyLoss(labels, ts.None, ts.ReductionMean, -100, 0, false)
			}, bo)
		}
	case "llama7b-lm":
		m, err := nnllama.Load(o.Model, lo)
		if err != nil {
			return nil, err
		}
		model, vocab = m, int64(m.Model.Config.VocabSize)
		backward = func(ids *ts.Tensor) (float64, error) {
			return m.LossAndBackward(ids, nil, func(logits *ts.Tensor) *ts.Tensor {
				return nnllama.CausalLMLoss(logits, ids)
			}, bo)
		}
	default:
		return nil, fmt.Errorf("unknown row %q", o.Row)
	}
	cfg := loraplus.DefaultConfig(llamaTargets...)
	cfg.Rank, cfg.Alpha, cfg.Dropout = 16, 32, 0
	lm, err := loraplus.Wrap(model, cfg)
	if err != nil {
		return nil, err
	}
	for _, h := range head {
		if err := lm.AddTrainable(h.Name, h.Tensor); err != nil {
			return nil, err
		}
	}
	opt, err := lm.NewAdamW(loraplus.DefaultOptimConfig(1e-4))
	if err != nil {
		return nil, err
	}
	ids := ts.MustRandintLow(3, vocab, []int64{b, t}, gotch.Int64, dev)
	trainable := lm.Trainable()
	step := func() error {
		if err := opt.ZeroGrad(); err != nil {
			return err
		}
		if _, err := backward(ids); err != nil {
			return err
		}
		return update(opt, trainable, dev)
	}
	return &workload{step: step, perStep: o.Batch * o.Seq}, nil
}

// update ends a training step of every row: the gradients clipped at 1, the LoRA+ AdamW step, and a wait for the
// device, so that a step's time is its own.
func update(opt *loraplus.AdamW, trainable []*ts.Tensor, dev gotch.Device) error {
	loraplus.ClipGradNorm(trainable, 1)
	if err := opt.Step(1); err != nil {
		return err
	}
	return syncDevice(dev)
}

// syncDevice waits for the device's queued kernels (a no-op on the CPU).
func syncDevice(dev gotch.Device) error {
	if dev.IsCuda() {
		return ts.CudaSynchronize(dev.Value)
	}
	return nil
}
