package instruct

import (
	"fmt"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// Targets are the seven linear projections of a Llama block: the paper's flan-v2 LoRA targets.
var Targets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// Config sets a LoRA+ instruction-tuning run of a Llama language model: the training session's
// settings and the task's.
type Config struct {
	train.Config // optimizer, schedule, batch size (right-padded to the longest example), epochs, clipping, checkpoints, seed, output

	LoRA loraplus.Config // targets, rank, alpha, dropout, init and the adapters' init seed

	MaxLen int // tokens per example (recorded; the data is cut when encoded)
	// GradCheckpoint recomputes each decoder layer's forward pass during the backward pass (nn's gradient
	// checkpointing): activation memory of one layer instead of all, for long sequences, at about one more
	// forward pass of compute. Dropout masks are then drawn per layer from the step's seed.
	GradCheckpoint bool

	Device   gotch.Device
	DataName string // recorded in the trainer state; a resume must use the same data
}

// DefaultConfig returns the paper's flan-v2 settings: LoRA r = 64, alpha = 16, dropout 0.05 on the
// seven projections, lr_A 2e-4 with ratio 16, AdamW betas (0.9, 0.999), eps 1e-6 (Appendix C.1.4), no weight decay, constant
// schedule, 1 epoch, 512 tokens, batch 16, a checkpoint every 500 steps, 2 kept.
func DefaultConfig() Config {
	lc := loraplus.DefaultConfig(Targets...)
	lc.Rank, lc.Alpha, lc.Dropout = 64, 16, 0.05
	oc := loraplus.DefaultOptimConfig(2e-4)
	oc.Beta2, oc.Eps = 0.999, 1e-6
	return Config{
		Config: train.Config{Optim: oc, Schedule: "constant", BatchSize: 16, Epochs: 1, SaveEvery: 500, Keep: 2,
			Seed: 42, Out: "out/llama"},
		LoRA: lc, MaxLen: 512, Device: gotch.CPU,
	}
}

// Validate reports settings that cannot run.
func (c *Config) Validate() error {
	if err := c.LoRA.Validate(); err != nil {
		return fmt.Errorf("instruct: %w", err)
	}
	if c.MaxLen < 2 {
		return fmt.Errorf("instruct: max length must be >= 2, got %d", c.MaxLen)
	}
	return c.Config.Validate()
}
