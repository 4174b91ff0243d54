package glue

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/sugarme/gotch"
)

// TrainConfig sets a LoRA+ finetuning run on a GLUE task. The defaults of the LoRA+ paper's GLUE runs are
// those of DefaultTrainConfig.
type TrainConfig struct {
	Task  Task
	LoRA  loraplus.Config      // targets, rank, alpha, dropout, init and the adapters' init seed
	Optim loraplus.OptimConfig // lr_A, ratio, embedding lr, betas, eps, weight decay
	// FrozenHead names head tensors (of the model's Head) that stay frozen; the others train. The LoRA+
	// authors' RoBERTa runs froze classifier.dense.
	FrozenHead []string

	Schedule string // "linear" (the paper), "constant" or "cosine"
	Warmup   int    // warmup steps

	BatchSize int // examples per optimizer step
	EvalBatch int // examples per evaluation batch; 0 uses BatchSize
	MaxLen    int // tokens per example after truncation; batches are padded to it
	// PadToLongest pads each batch to its longest example instead of MaxLen. The paper pads to MaxLen; for a
	// model that honours the attention mask the logits are the same, and short batches run faster.
	PadToLongest bool

	Epochs   int     // passes over the training set
	MaxSteps int     // when > 0, the number of optimizer steps (overrides Epochs)
	ClipNorm float64 // when > 0, the largest L2 norm of the trainable tensors' gradients

	EvalEvery int // evaluate every this many steps (0: only at the end)
	SaveEvery int // checkpoint every this many steps (0: only at the end)
	Keep      int // checkpoints kept in Out (the most recent); 0 keeps all

	Seed   uint64 // shuffling seed
	Out    string // output directory: checkpoints, history.jsonl, metrics.json
	Resume string // a checkpoint directory, "latest" (the newest checkpoint in Out), or "" to start afresh

	Device    gotch.Device
	BaseModel string    // recorded in the adapter config (base_model_name_or_path)
	Log       io.Writer // progress and evaluation lines; nil is os.Stderr

	// OnStep, when set, is called after every optimizer step with the step number (from 1) and its loss.
	OnStep func(step int, loss float64)
}

// DefaultTrainConfig returns the settings of the LoRA+ authors' GLUE scripts for a task: batch 32, 128 tokens,
// 3 epochs (10 for SST-2), linear decay without warmup, AdamW betas (0.9, 0.99), eps 1e-8, no weight decay,
// ratio 16, r = alpha = 8, dropout 0.1, evaluation and checkpoints every 500 steps, 2 checkpoints kept.
func DefaultTrainConfig(task Task, lr float64, targets ...string) TrainConfig {
	lc := loraplus.DefaultConfig(targets...)
	lc.Dropout = 0.1
	c := TrainConfig{
		Task: task, LoRA: lc, Optim: loraplus.DefaultOptimConfig(lr),
		Schedule: "linear", BatchSize: 32, MaxLen: 128, Epochs: 3,
		EvalEvery: 500, SaveEvery: 500, Keep: 2, Seed: 42, Out: "out/glue", Device: gotch.CPU,
	}
	if task.Name == "sst-2" {
		c.Epochs = 10
	}
	return c
}

// Validate reports settings that cannot run.
func (c *TrainConfig) Validate() error {
	if c.Task.NumLabels() < 2 {
		return fmt.Errorf("train: task %q has fewer than 2 labels", c.Task.Name)
	}
	if err := c.LoRA.Validate(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := c.Optim.Validate(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if _, err := loraplus.ParseSchedule(c.Schedule, c.Warmup, 1); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	switch {
	case c.BatchSize <= 0:
		return fmt.Errorf("train: batch size must be > 0, got %d", c.BatchSize)
	case c.EvalBatch < 0:
		return fmt.Errorf("train: eval batch size must be >= 0, got %d", c.EvalBatch)
	case c.MaxLen <= 0:
		return fmt.Errorf("train: max length must be > 0, got %d", c.MaxLen)
	case c.MaxSteps < 0:
		return fmt.Errorf("train: max steps must be >= 0, got %d", c.MaxSteps)
	case c.MaxSteps == 0 && c.Epochs <= 0:
		return fmt.Errorf("train: epochs must be > 0 (or set max steps), got %d", c.Epochs)
	case c.ClipNorm < 0 || c.ClipNorm != c.ClipNorm:
		return fmt.Errorf("train: gradient clip norm must be >= 0, got %v", c.ClipNorm)
	case c.EvalEvery < 0 || c.SaveEvery < 0 || c.Keep < 0:
		return fmt.Errorf("train: eval-every, save-every and keep must be >= 0, got %d, %d, %d",
			c.EvalEvery, c.SaveEvery, c.Keep)
	case c.Out == "":
		return fmt.Errorf("train: no output directory")
	}
	return nil
}

func (c *TrainConfig) log() io.Writer {
	if c.Log == nil {
		return os.Stderr
	}
	return c.Log
}

func (c *TrainConfig) evalBatch() int {
	if c.EvalBatch > 0 {
		return c.EvalBatch
	}
	return c.BatchSize
}

// fingerprint lists the settings that decide the training trajectory; a resumed run must match them.
func (c *TrainConfig) fingerprint(totalSteps, trainSize int) map[string]string {
	o, l := c.Optim, c.LoRA
	return map[string]string{
		"task": c.Task.Name, "train_examples": fmt.Sprint(trainSize), "total_steps": fmt.Sprint(totalSteps),
		"batch_size": fmt.Sprint(c.BatchSize), "max_len": fmt.Sprint(c.MaxLen), "pad_to_longest": fmt.Sprint(c.PadToLongest),
		"seed": fmt.Sprint(c.Seed), "schedule": c.Schedule, "warmup": fmt.Sprint(c.Warmup),
		"clip_norm": fmt.Sprint(c.ClipNorm), "lr": fmt.Sprint(o.LR), "ratio": fmt.Sprint(o.Ratio),
		"lr_embedding": fmt.Sprint(o.LREmbedding), "betas": fmt.Sprint(o.Beta1, ",", o.Beta2), "eps": fmt.Sprint(o.Eps),
		"weight_decay": fmt.Sprint(o.WeightDecay), "rank": fmt.Sprint(l.Rank), "alpha": fmt.Sprint(l.Alpha),
		"dropout": fmt.Sprint(l.Dropout), "init": l.Init.String(), "rslora": fmt.Sprint(l.RSLoRA),
		"targets": fmt.Sprint(l.Targets), "target_regex": l.TargetRegex, "lora_seed": fmt.Sprint(l.Seed),
		"frozen_head": fmt.Sprint(c.FrozenHead),
	}
}

// diffFingerprint names the settings that differ between a checkpoint and the current run.
func diffFingerprint(saved, now map[string]string) error {
	var keys []string
	for k := range now {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if saved[k] != now[k] {
			return fmt.Errorf("setting %q was %q in the checkpoint, now %q", k, saved[k], now[k])
		}
	}
	return nil
}
