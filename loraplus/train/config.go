package train

import (
	"fmt"
	"io"
	"maps"
	"os"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/dist"
)

// Config sets a training session. The LoRA settings are those of the wrapped model (loraplus.Model.Config).
type Config struct {
	Optim loraplus.OptimConfig // lr_A, ratio, embedding lr, betas, eps, weight decay

	Schedule string // "linear", "constant" or "cosine" (loraplus.ParseSchedule)
	Warmup   int    // warmup steps

	BatchSize int // examples per forward/backward pass (Hugging Face's per_device_train_batch_size)
	// GradAccum is the number of batches whose gradients add up before each optimizer step (Hugging Face's
	// gradient_accumulation_steps; 0 and 1: one), so a step sees BatchSize·GradAccum examples at the activation
	// memory of BatchSize. Each batch's loss counts by its share of the step's examples, so the step equals one
	// on all of them at once (for a loss that is a mean over examples).
	GradAccum int

	Epochs   int     // passes over the training set
	MaxSteps int     // when > 0, the number of optimizer steps (overrides Epochs)
	ClipNorm float64 // when > 0, the largest L2 norm of the trainable tensors' gradients

	EvalEvery int // evaluate every this many steps (0: only at the end); only for a task that is an Evaluator
	SaveEvery int // checkpoint every this many steps (0: only at the end)
	Keep      int // checkpoints kept in Out (the most recent); 0 keeps all
	// LogEvery appends a LogEntry to Out/log.jsonl and its scalars to a TensorBoard event file in Out/runs/ every
	// this many steps, and the evaluations' metrics to that file (0: neither).
	LogEvery int

	Seed   uint64 // shuffling and dropout seed
	Out    string // output folder: checkpoint-STEP/, history.jsonl, log.jsonl, metrics.json
	Resume string // a checkpoint folder, "latest" (the newest checkpoint in Out), or "" to start afresh

	Name      string // the task's name, recorded in metrics.json, the adapter config and the fingerprint
	TaskType  string // the adapters' PEFT task type ("SEQ_CLS", "CAUSAL_LM")
	BaseModel string // recorded in the adapter config (base_model_name_or_path)
	// Settings are the task's own settings that decide the trajectory (e.g. "max_len"); they join the
	// fingerprint a resumed run must match.
	Settings map[string]string
	// AdapterInfo are notes recorded in the checkpoints' loraplus_config.json besides the task and the step.
	AdapterInfo map[string]string
	// BestMetric names the metric whose highest value the session tracks (State.Best); "" tracks none.
	BestMetric string

	// Dist, when set, trains data-parallel in its process group: each rank runs the forward and backward passes of
	// its contiguous share of every step's examples (with the step's weights, so that the sum over ranks is the
	// step of one process), the gradients and the loss are summed over the ranks before clipping and the update,
	// and every rank applies the same update. Rank 0 alone writes Out (checkpoints, logs, history, metrics) and
	// draws the progress bar; a stop (Ctrl-C) on any rank stops every rank after the same step. The ranks must run
	// with the same settings (checked at New) and read Out on a shared file system to resume.
	Dist *dist.Group

	Log io.Writer // progress and evaluation lines; nil is os.Stderr
	// OnStep, when set, is called after every optimizer step with the step number (from 1) and its loss.
	OnStep func(step int, loss float64)
}

// Validate reports settings that cannot run, naming the setting.
func (c *Config) Validate() error {
	if err := c.Optim.Validate(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if _, err := loraplus.ParseSchedule(c.Schedule, c.Warmup, 1); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	switch {
	case c.BatchSize <= 0:
		return fmt.Errorf("train: batch size must be > 0, got %d", c.BatchSize)
	case c.GradAccum < 0:
		return fmt.Errorf("train: gradient accumulation steps must be >= 0, got %d", c.GradAccum)
	case c.MaxSteps < 0:
		return fmt.Errorf("train: max steps must be >= 0, got %d", c.MaxSteps)
	case c.MaxSteps == 0 && c.Epochs <= 0:
		return fmt.Errorf("train: epochs must be > 0 (or set max steps), got %d", c.Epochs)
	case c.ClipNorm < 0 || c.ClipNorm != c.ClipNorm:
		return fmt.Errorf("train: gradient clip norm must be >= 0, got %v", c.ClipNorm)
	case c.EvalEvery < 0 || c.SaveEvery < 0 || c.Keep < 0:
		return fmt.Errorf("train: eval-every, save-every and keep must be >= 0, got %d, %d, %d",
			c.EvalEvery, c.SaveEvery, c.Keep)
	case c.LogEvery < 0:
		return fmt.Errorf("train: log-every must be >= 0, got %d", c.LogEvery)
	case c.Out == "":
		return fmt.Errorf("train: no output folder")
	}
	return nil
}

// StepBatch is the number of examples of an optimizer step: BatchSize·GradAccum.
func (c *Config) StepBatch() int { return c.BatchSize * max(c.GradAccum, 1) }

func (c *Config) log() io.Writer {
	if !c.main() {
		return io.Discard
	}
	if c.Log == nil {
		return os.Stderr
	}
	return c.Log
}

// main reports whether this process writes Out: a single process, or rank 0 of a data-parallel run.
func (c *Config) main() bool { return c.Dist == nil || c.Dist.IsMain() }

// fingerprint lists the settings that decide the training trajectory; a resumed run must match them. The keys
// are those of the checkpoints written before this package existed, so that those still resume.
func (c *Config) fingerprint(l loraplus.Config, totalSteps, trainSize int) map[string]string {
	o := c.Optim
	f := map[string]string{
		"task": c.Name, "train_examples": fmt.Sprint(trainSize), "total_steps": fmt.Sprint(totalSteps),
		"batch_size": fmt.Sprint(c.BatchSize), "seed": fmt.Sprint(c.Seed), "schedule": c.Schedule,
		"warmup": fmt.Sprint(c.Warmup), "clip_norm": fmt.Sprint(c.ClipNorm), "lr": fmt.Sprint(o.LR),
		"ratio": fmt.Sprint(o.Ratio), "lr_embedding": fmt.Sprint(o.LREmbedding), "betas": fmt.Sprint(o.Beta1, ",", o.Beta2),
		"eps": fmt.Sprint(o.Eps), "weight_decay": fmt.Sprint(o.WeightDecay), "rank": fmt.Sprint(l.Rank),
		"alpha": fmt.Sprint(l.Alpha), "dropout": fmt.Sprint(l.Dropout), "init": l.Init.String(),
		"rslora": fmt.Sprint(l.RSLoRA), "targets": fmt.Sprint(l.Targets), "target_regex": l.TargetRegex,
		"lora_seed": fmt.Sprint(l.Seed),
	}
	// Settings added after checkpoints were first written are recorded only when they are not their default,
	// so that those checkpoints still resume.
	if c.GradAccum > 1 {
		f["grad_accum"] = fmt.Sprint(c.GradAccum)
	}
	if l.DoRA {
		f["dora"] = "true"
	}
	if o.LRMagnitude > 0 {
		f["lr_magnitude"] = fmt.Sprint(o.LRMagnitude)
	}
	maps.Copy(f, c.Settings)
	return f
}
