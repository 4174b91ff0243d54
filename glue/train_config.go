package glue

import (
	"fmt"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// TrainConfig sets a LoRA+ finetuning run on a GLUE task: the training session's settings and the task's. The
// defaults of the LoRA+ paper's GLUE runs are those of DefaultTrainConfig.
type TrainConfig struct {
	train.Config // optimizer, schedule, batch size, epochs, clipping, evaluation and checkpoints, seed, output

	Task Task
	LoRA loraplus.Config // targets, rank, alpha, dropout, init and the adapters' init seed
	// FrozenHead names head tensors (of the model's Head) that stay frozen; the others train. The LoRA+
	// authors' RoBERTa runs froze classifier.dense.
	FrozenHead []string

	EvalBatch int // examples per evaluation batch; 0 uses BatchSize
	MaxLen    int // tokens per example after truncation; batches are padded to it
	// PadToLongest pads each batch to its longest example instead of MaxLen. The paper pads to MaxLen; for a
	// model that honours the attention mask the logits are the same, and short batches run faster.
	PadToLongest bool
	// GradCheckpoint trains with gradient checkpointing (nn.Checkpointer: Llama classifiers): each layer's
	// forward pass is recomputed in the backward pass, for less activation memory at about one more forward pass
	// of compute, with the same loss and gradients.
	GradCheckpoint bool

	Device gotch.Device
}

// DefaultTrainConfig returns the settings of the LoRA+ authors' GLUE scripts for a task: batch 32, 128 tokens,
// 3 epochs (10 for SST-2), linear decay without warmup, AdamW betas (0.9, 0.99), eps 1e-8, no weight decay,
// ratio 16, r = alpha = 8, dropout 0.1, gradients clipped to global norm 1 (Hugging Face Trainer's max_grad_norm),
// evaluation and checkpoints every 500 steps, 2 checkpoints kept.
func DefaultTrainConfig(task Task, lr float64, targets ...string) TrainConfig {
	lc := loraplus.DefaultConfig(targets...)
	lc.Dropout = 0.1
	c := TrainConfig{
		Config: train.Config{Optim: loraplus.DefaultOptimConfig(lr), Schedule: "linear", BatchSize: 32, Epochs: 3, ClipNorm: 1,
			EvalEvery: 500, SaveEvery: 500, Keep: 2, Seed: 42, Out: "out/glue"},
		Task: task, LoRA: lc, MaxLen: 128, Device: gotch.CPU,
	}
	if task.Name == "sst-2" {
		c.Epochs = 10
	}
	return c
}

// Validate reports settings that cannot run.
func (c *TrainConfig) Validate() error {
	if c.Task.NumLabels() < 2 && !c.Task.Regression {
		return fmt.Errorf("glue: task %q has fewer than 2 labels", c.Task.Name)
	}
	if err := c.LoRA.Validate(); err != nil {
		return fmt.Errorf("glue: %w", err)
	}
	switch {
	case c.EvalBatch < 0:
		return fmt.Errorf("glue: eval batch size must be >= 0, got %d", c.EvalBatch)
	case c.MaxLen <= 0:
		return fmt.Errorf("glue: max length must be > 0, got %d", c.MaxLen)
	}
	return c.Config.Validate()
}

func (c *TrainConfig) evalBatch() int {
	if c.EvalBatch > 0 {
		return c.EvalBatch
	}
	return c.BatchSize
}
