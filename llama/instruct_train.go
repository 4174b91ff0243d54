package llama

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/llama/data"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/progress"
	"github.com/loraplus-go/loraplus/nn"
)

// InstructTrainer finetunes the LoRA adapters of a Llama language model on encoded instruction data with LoRA+
// AdamW, the loss being the causal-LM loss on the target tokens only. Its position, checkpoints and resume
// follow glue.Trainer (glue.TrainerState, checkpoint-STEP/ directories). All methods except Stop must run on
// one goroutine locked to its OS thread.
type InstructTrainer struct {
	cfg   InstructConfig
	model *nnllama.ForCausalLM
	lm    *loraplus.Model
	opt   *loraplus.AdamW
	sched loraplus.Schedule
	plan  *loraplus.Plan
	data  []data.Encoded
	padID int

	total, perEpoch int
	state           glue.TrainerState
	pcg             *rand.PCG
	order           [][]int

	stop      atomic.Bool
	lastSaved int
	tokens    int // trained tokens since Run started
	start     time.Time
	startStep int
}

// InstructResult summarises a finished (or interrupted) run.
type InstructResult struct {
	Step        int     `json:"global_step"`
	TotalSteps  int     `json:"total_steps"`
	Epoch       float64 `json:"epoch"`
	TrainLoss   float64 `json:"train_loss"` // mean loss over every step of the run, before a resume too
	LastLoss    float64 `json:"last_loss"`
	Checkpoint  string  `json:"checkpoint"`
	Seconds     float64 `json:"train_seconds"`
	SecPerStep  float64 `json:"seconds_per_step"`
	TokensSec   float64 `json:"train_tokens_per_second"` // input tokens (padding excluded)
	Interrupted bool    `json:"interrupted,omitempty"`
}

// NewInstructTrainer attaches adapters to model and builds the LoRA+ AdamW and the schedule; with cfg.Resume
// set it restores a checkpoint (adapters, optimizer state, position, shuffling RNG). padID fills batches
// (its label is data.IgnoreIndex and its mask 0, so any id in the vocabulary does).
func NewInstructTrainer(model *nnllama.ForCausalLM, cfg InstructConfig, train []data.Encoded, padID int) (*InstructTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if model == nil {
		return nil, fmt.Errorf("llama: train: no model")
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("llama: train: no training examples")
	}
	vocab := model.Model.Config.VocabSize
	if padID < 0 || padID >= vocab {
		return nil, fmt.Errorf("llama: train: pad id %d outside the vocabulary of %d", padID, vocab)
	}
	for i, e := range train {
		if len(e.InputIDs) != len(e.Labels) || len(e.InputIDs) < 2 {
			return nil, fmt.Errorf("llama: train: example %d has %d ids and %d labels (want equal, >= 2)", i, len(e.InputIDs), len(e.Labels))
		}
		for _, id := range e.InputIDs {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("llama: train: example %d has token id %d outside the vocabulary of %d", i, id, vocab)
			}
		}
	}
	lm, err := loraplus.Wrap(model, cfg.LoRA)
	if err != nil {
		return nil, fmt.Errorf("llama: train: %w", err)
	}
	t := &InstructTrainer{cfg: cfg, model: model, lm: lm, data: train, padID: padID, lastSaved: -1}
	if t.plan, err = lm.Plan(cfg.Optim); err != nil {
		return nil, fmt.Errorf("llama: train: %w", err)
	}
	if t.opt, err = lm.NewAdamW(cfg.Optim); err != nil {
		return nil, fmt.Errorf("llama: train: %w", err)
	}
	t.perEpoch = glue.StepsPerEpoch(len(train), cfg.BatchSize)
	t.total = cfg.MaxSteps
	if t.total == 0 {
		t.total = cfg.Epochs * t.perEpoch
	}
	if t.sched, err = loraplus.ParseSchedule(cfg.Schedule, cfg.Warmup, t.total); err != nil {
		return nil, fmt.Errorf("llama: train: %w", err)
	}
	t.pcg = rand.NewPCG(cfg.Seed, 0x5eed)
	t.state = glue.TrainerState{TotalSteps: t.total, StepsPerEpoch: t.perEpoch, Config: cfg.fingerprint(t.total, len(train))}
	if t.state.RNG, err = t.pcg.MarshalBinary(); err != nil {
		return nil, err
	}
	if err := glue.PrepareOut(cfg.Out, cfg.log()); err != nil {
		return nil, fmt.Errorf("llama: train: %w", err)
	}
	if cfg.Resume != "" {
		dir, err := glue.ResolveCheckpoint(cfg.Out, cfg.Resume)
		if err != nil {
			return nil, err
		}
		if err := t.restore(dir); err != nil {
			return nil, err
		}
		t.lastSaved = t.state.Step
	}
	return t, nil
}

// Model returns the wrapped model (the adapters).
func (t *InstructTrainer) Model() *loraplus.Model { return t.lm }

// Plan returns the optimizer plan: every trainable tensor with its group and learning rate.
func (t *InstructTrainer) Plan() *loraplus.Plan { return t.plan }

// State returns the trainer's position.
func (t *InstructTrainer) State() glue.TrainerState { return t.state }

// TotalSteps returns the number of optimizer steps of the run.
func (t *InstructTrainer) TotalSteps() int { return t.total }

// Stop asks Run to finish the step in flight, write a checkpoint and return glue.ErrInterrupted. It may be
// called from any goroutine.
func (t *InstructTrainer) Stop() { t.stop.Store(true) }

// Run trains until the last step, checkpointing every SaveEvery steps and at the end, then writes
// metrics.json. After Stop or the end of ctx it writes a checkpoint and returns an error wrapping
// glue.ErrInterrupted; a loss or gradient norm that is not finite stops before the update with an error naming
// the step and the last good checkpoint.
func (t *InstructTrainer) Run(ctx context.Context) (*InstructResult, error) {
	bar := progress.NewTo(t.cfg.log(), "train", t.total-t.state.Step)
	bar.Unit = "step"
	t.start, t.startStep = time.Now(), t.state.Step
	for t.state.Step < t.total {
		if t.stop.Load() || (ctx != nil && ctx.Err() != nil) {
			return t.interrupt()
		}
		factor := t.sched.Factor(t.state.Step)
		idx, err := t.nextBatch()
		if err != nil {
			return nil, err
		}
		loss, err := t.TrainStep(idx, factor)
		if err != nil {
			return nil, err
		}
		t.advance()
		t.state.AddLoss(loss)
		step := t.state.Step
		if t.cfg.OnStep != nil {
			t.cfg.OnStep(step, loss)
		}
		el := time.Since(t.start).Seconds()
		bar.Set(step-t.startStep, fmt.Sprintf("loss=%.4f lr_A=%.2e lr_B=%.2e tok/s=%.0f", loss,
			t.cfg.Optim.LR*factor, t.cfg.Optim.LR*t.cfg.Optim.Ratio*factor, float64(t.tokens)/math.Max(el, 1e-9)))
		if step == t.total || (t.cfg.SaveEvery > 0 && step%t.cfg.SaveEvery == 0) {
			if _, err := t.SaveCheckpoint(); err != nil {
				return nil, err
			}
		}
	}
	bar.Done()
	glue.FaultPoint("metrics", t.state.Step)
	res := t.result()
	if err := writeJSON(t.cfg.Out, glue.MetricsFile, res); err != nil {
		return nil, err
	}
	if err := glue.SyncDir(t.cfg.Out); err != nil {
		return nil, fmt.Errorf("llama: %s: sync: %w", t.cfg.Out, err)
	}
	return res, nil
}

func (t *InstructTrainer) interrupt() (*InstructResult, error) {
	dir, err := t.SaveCheckpoint()
	if err != nil {
		return nil, fmt.Errorf("llama: train: interrupted at step %d, and the checkpoint failed: %w", t.state.Step, err)
	}
	res := t.result()
	res.Interrupted = true
	return res, fmt.Errorf("llama: train: %w at step %d; checkpoint %s (resume with -resume latest)", glue.ErrInterrupted, t.state.Step, dir)
}

func (t *InstructTrainer) result() *InstructResult {
	el := time.Since(t.start).Seconds()
	n := t.state.Step - t.startStep
	res := &InstructResult{Step: t.state.Step, TotalSteps: t.total, Epoch: float64(t.state.Step) / float64(t.perEpoch),
		LastLoss: t.state.LastLoss, Checkpoint: t.checkpointDir(t.state.Step), Seconds: el,
		TokensSec: float64(t.tokens) / math.Max(el, 1e-9)}
	if n > 0 {
		res.SecPerStep = el / float64(n)
	}
	res.TrainLoss = t.state.LastLoss
	if t.state.RunLossSteps > 0 {
		res.TrainLoss = t.state.RunLossSum / float64(t.state.RunLossSteps)
	}
	return res
}

// nextBatch draws the epoch's order when an epoch starts and returns the next batch of example indices.
func (t *InstructTrainer) nextBatch() ([]int, error) {
	if t.order == nil {
		t.order = glue.BatchIndices(glue.EpochOrder(rand.New(t.pcg), len(t.data), true), t.cfg.BatchSize)
	}
	if t.state.EpochStep >= len(t.order) {
		return nil, fmt.Errorf("llama: train: position %d is past the %d batches of epoch %d", t.state.EpochStep, len(t.order), t.state.Epoch)
	}
	return t.order[t.state.EpochStep], nil
}

// advance moves the position one step on; a finished epoch drops its batch order.
func (t *InstructTrainer) advance() {
	if t.state.Advance(len(t.order), t.pcg) {
		t.order = nil
	}
}

// InstructBatch right-pads examples to the longest: ids, attention mask and labels, each [B, T] int64 on
// the CPU; padding has mask 0 and label data.IgnoreIndex.
func InstructBatch(examples []data.Encoded, padID int) (ids, mask, labels *ts.Tensor) {
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
				vi[k], vm[k], vl[k] = int64(padID), 0, data.IgnoreIndex
			}
		}
	}
	shape := []int64{int64(len(examples)), int64(cols)}
	mk := func(v []int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	return mk(vi), mk(vm), mk(vl)
}

// InstructLoss is the loss of a batch: the model's next-token cross-entropy on the positions whose label is
// not data.IgnoreIndex (a scalar fp32 tensor), as LlamaForCausalLM computes it with labels.
func InstructLoss(m *nnllama.ForCausalLM, ids, mask, labels *ts.Tensor, train bool) *ts.Tensor {
	return m.CausalLMLoss(ids, mask, labels, train)
}

// TrainStep runs forward, loss, backward, clipping and the optimizer step at lr factor on the examples idx,
// and returns the loss. A loss that is not finite stops before any update.
func (t *InstructTrainer) TrainStep(idx []int, factor float64) (float64, error) {
	batch := make([]data.Encoded, len(idx))
	for i, k := range idx {
		batch[i] = t.data[k]
		t.tokens += len(t.data[k].InputIDs)
	}
	if err := nn.ManualSeed(nn.MixSeed(t.cfg.Seed, t.state.Step)); err != nil {
		return 0, err
	}
	ids, mask, labels := InstructBatch(batch, t.padID)
	if dev := t.cfg.Device; dev != gotch.CPU {
		ids, mask, labels = ids.MustTo(dev, true), mask.MustTo(dev, true), labels.MustTo(dev, true)
	}
	if t.cfg.GradCheckpoint {
		return t.checkpointedStep(ids, mask, labels, factor)
	}
	loss := InstructLoss(t.model, ids, mask, labels, true)
	ids.MustDrop()
	mask.MustDrop()
	labels.MustDrop()
	v := loss.Float64Values()[0]
	step := t.state.Step + 1
	if math.IsNaN(v) || math.IsInf(v, 0) {
		loss.MustDrop()
		return 0, fmt.Errorf("llama: train: loss is %v at step %d (epoch %d, batch %d); stopped before the update, last good checkpoint: %s",
			v, step, t.state.Epoch, t.state.EpochStep, t.lastCheckpointName())
	}
	t.opt.ZeroGrad()
	loss.MustBackward()
	loss.MustDrop()
	return t.finishStep(v, factor)
}

// checkpointedStep is TrainStep's forward and backward with gradient checkpointing, libtorch reseeded before
// each decoder layer from the step's seed and the layer index. It drops ids, mask and labels.
func (t *InstructTrainer) checkpointedStep(ids, mask, labels *ts.Tensor, factor float64) (float64, error) {
	defer func() {
		ids.MustDrop()
		mask.MustDrop()
		labels.MustDrop()
	}()
	step := t.state.Step + 1
	seed := nn.MixSeed(t.cfg.Seed, t.state.Step)
	t.opt.ZeroGrad()
	v, err := t.model.LossAndBackward(ids, mask, func(logits *ts.Tensor) *ts.Tensor {
		return nnllama.CausalLMLoss(logits, labels)
	}, nnllama.BackwardOptions{Train: true, Checkpoint: true, Reseed: func(layer int) error {
		return nn.ManualSeed(nn.MixSeed(seed, layer))
	}})
	if err != nil {
		return 0, fmt.Errorf("llama: train: step %d: %w", step, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("llama: train: loss is %v at step %d (epoch %d, batch %d); stopped before the update, last good checkpoint: %s",
			v, step, t.state.Epoch, t.state.EpochStep, t.lastCheckpointName())
	}
	return t.finishStep(v, factor)
}

// finishStep clips the gradients of a step whose loss v was backpropagated and takes the optimizer step.
func (t *InstructTrainer) finishStep(v, factor float64) (float64, error) {
	step := t.state.Step + 1
	if t.cfg.ClipNorm > 0 {
		norm := loraplus.ClipGradNorm(t.lm.Trainable(), t.cfg.ClipNorm)
		if math.IsNaN(norm) || math.IsInf(norm, 0) {
			return 0, fmt.Errorf("llama: train: gradient norm is %v at step %d; stopped before the update, last good checkpoint: %s",
				norm, step, t.lastCheckpointName())
		}
	}
	glue.FaultPoint("step", step)
	if err := t.opt.Step(factor); err != nil {
		return 0, fmt.Errorf("llama: train: step %d: %w", step, err)
	}
	t.state.LastLoss = v
	return v, nil
}
