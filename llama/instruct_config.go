package llama

import (
	"fmt"
	"io"
	"os"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/sugarme/gotch"
)

// InstructTargets are the seven linear projections of a Llama block: the paper's flan-v2 LoRA targets.
var InstructTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// InstructConfig sets a LoRA+ instruction-tuning run of a Llama language model.
type InstructConfig struct {
	LoRA  loraplus.Config      // targets, rank, alpha, dropout, init and the adapters' init seed
	Optim loraplus.OptimConfig // lr_A, ratio, embedding lr, betas, eps, weight decay

	Schedule string // "constant" (the paper's flan-v2 runs), "linear" or "cosine"
	Warmup   int    // warmup steps

	BatchSize int     // examples per optimizer step; a batch is right-padded to its longest example
	MaxLen    int     // tokens per example (recorded; the data is cut when encoded)
	Epochs    int     // passes over the data
	MaxSteps  int     // when > 0, the number of optimizer steps (overrides Epochs)
	ClipNorm  float64 // when > 0, the largest L2 norm of the adapters' gradients
	// GradCheckpoint recomputes each decoder layer's forward pass during the backward pass (nn's gradient
	// checkpointing): activation memory of one layer instead of all, for long sequences, at about one more
	// forward pass of compute. Dropout masks are then drawn per layer from the step's seed.
	GradCheckpoint bool

	SaveEvery int // checkpoint every this many steps (0: only at the end)
	Keep      int // checkpoints kept in Out (the most recent); 0 keeps all

	Seed   uint64 // shuffling and dropout seed
	Out    string // output directory: checkpoint-STEP/ and metrics.json
	Resume string // a checkpoint directory, "latest", or "" to start afresh

	Device    gotch.Device
	BaseModel string    // recorded in the adapter config (base_model_name_or_path)
	DataName  string    // recorded in the trainer state; a resume must use the same data
	Log       io.Writer // progress lines; nil is os.Stderr

	// OnStep, when set, is called after every optimizer step with the step number (from 1) and its loss.
	OnStep func(step int, loss float64)
}

// DefaultInstructConfig returns the paper's flan-v2 settings: LoRA r = 64, alpha = 16, dropout 0.05 on the
// seven projections, lr_A 2e-4 with ratio 16, AdamW betas (0.9, 0.999), eps 1e-8, no weight decay, constant
// schedule, 1 epoch, 512 tokens, batch 16, a checkpoint every 500 steps, 2 kept.
func DefaultInstructConfig() InstructConfig {
	lc := loraplus.DefaultConfig(InstructTargets...)
	lc.Rank, lc.Alpha, lc.Dropout = 64, 16, 0.05
	oc := loraplus.DefaultOptimConfig(2e-4)
	oc.Beta2 = 0.999
	return InstructConfig{LoRA: lc, Optim: oc, Schedule: "constant", BatchSize: 16, MaxLen: 512, Epochs: 1,
		SaveEvery: 500, Keep: 2, Seed: 42, Out: "out/llama", Device: gotch.CPU}
}

// Validate reports settings that cannot run.
func (c *InstructConfig) Validate() error {
	if err := c.LoRA.Validate(); err != nil {
		return fmt.Errorf("llama: train: %w", err)
	}
	if err := c.Optim.Validate(); err != nil {
		return fmt.Errorf("llama: train: %w", err)
	}
	if _, err := loraplus.ParseSchedule(c.Schedule, c.Warmup, 1); err != nil {
		return fmt.Errorf("llama: train: %w", err)
	}
	switch {
	case c.BatchSize <= 0:
		return fmt.Errorf("llama: train: batch size must be > 0, got %d", c.BatchSize)
	case c.MaxLen < 2:
		return fmt.Errorf("llama: train: max length must be >= 2, got %d", c.MaxLen)
	case c.MaxSteps < 0:
		return fmt.Errorf("llama: train: max steps must be >= 0, got %d", c.MaxSteps)
	case c.MaxSteps == 0 && c.Epochs <= 0:
		return fmt.Errorf("llama: train: epochs must be > 0 (or set max steps), got %d", c.Epochs)
	case c.ClipNorm < 0 || c.ClipNorm != c.ClipNorm:
		return fmt.Errorf("llama: train: gradient clip norm must be >= 0, got %v", c.ClipNorm)
	case c.SaveEvery < 0 || c.Keep < 0:
		return fmt.Errorf("llama: train: save-every and keep must be >= 0, got %d, %d", c.SaveEvery, c.Keep)
	case c.Out == "":
		return fmt.Errorf("llama: train: no output directory")
	}
	return nil
}

func (c *InstructConfig) log() io.Writer {
	if c.Log == nil {
		return os.Stderr
	}
	return c.Log
}

// fingerprint lists the settings that decide the training trajectory; a resumed run must match them.
func (c *InstructConfig) fingerprint(totalSteps, trainSize int) map[string]string {
	o, l := c.Optim, c.LoRA
	return map[string]string{
		"task": "instruct", "data": c.DataName, "train_examples": fmt.Sprint(trainSize), "total_steps": fmt.Sprint(totalSteps),
		"batch_size": fmt.Sprint(c.BatchSize), "max_len": fmt.Sprint(c.MaxLen), "seed": fmt.Sprint(c.Seed),
		"schedule": c.Schedule, "warmup": fmt.Sprint(c.Warmup), "clip_norm": fmt.Sprint(c.ClipNorm),
		"lr": fmt.Sprint(o.LR), "ratio": fmt.Sprint(o.Ratio), "lr_embedding": fmt.Sprint(o.LREmbedding),
		"betas": fmt.Sprint(o.Beta1, ",", o.Beta2), "eps": fmt.Sprint(o.Eps), "weight_decay": fmt.Sprint(o.WeightDecay),
		"rank": fmt.Sprint(l.Rank), "alpha": fmt.Sprint(l.Alpha), "dropout": fmt.Sprint(l.Dropout),
		"init": l.Init.String(), "rslora": fmt.Sprint(l.RSLoRA), "targets": fmt.Sprint(l.Targets),
		"target_regex": l.TargetRegex, "lora_seed": fmt.Sprint(l.Seed),
	}
}
