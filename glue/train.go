package glue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/progress"
	"github.com/loraplus-go/loraplus/nn"
)

// ErrInterrupted is returned (wrapped) by Trainer.Run when Stop was called or its context ended: the step in
// flight was finished and a checkpoint written.
var ErrInterrupted = errors.New("training interrupted")

// EvalSet is one tokenized evaluation split, e.g. {Name: "mnli-m"}.
type EvalSet struct {
	Name string
	Data []Encoded
}

// TrainData is the tokenized data of a run.
type TrainData struct {
	Train []Encoded
	Evals []EvalSet
	PadID int
}

// Trainer finetunes the LoRA adapters and the classification head of a model on a GLUE task with LoRA+ AdamW.
// All of its methods except Stop must run on one goroutine locked to its OS thread (runtime.LockOSThread).
type Trainer struct {
	cfg   TrainConfig
	model nn.SequenceClassifier
	lm    *loraplus.Model
	opt   *loraplus.AdamW
	sched loraplus.Schedule
	plan  *loraplus.Plan
	data  TrainData

	total, perEpoch int
	state           TrainerState
	pcg             *rand.PCG
	order           [][]int // batches of the current epoch; nil until drawn

	stop      atomic.Bool
	lastSaved int
	start     time.Time
	startStep int
}

// NewTrainer attaches adapters to model (a pointer to a struct walked by nn.Modules, as loraplus.Wrap needs)
// and registers its head as trainable (PEFT's modules_to_save), then builds the LoRA+ AdamW and the schedule.
// With cfg.Resume set it restores a checkpoint: adapters, head, optimizer state, position and shuffling RNG.
func NewTrainer(model nn.SequenceClassifier, cfg TrainConfig, data TrainData) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if model == nil {
		return nil, fmt.Errorf("train: no model")
	}
	if len(data.Train) == 0 {
		return nil, fmt.Errorf("train: no training examples")
	}
	lm, err := loraplus.Wrap(model, cfg.LoRA)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	frozen := map[string]bool{}
	for _, n := range cfg.FrozenHead {
		frozen[n] = true
	}
	var headNames []string
	for _, h := range model.Head() {
		headNames = append(headNames, h.Name)
		if frozen[h.Name] {
			delete(frozen, h.Name)
			continue
		}
		if err := lm.AddTrainable(h.Name, h.Tensor); err != nil {
			return nil, fmt.Errorf("train: head: %w", err)
		}
	}
	if len(frozen) > 0 {
		var unknown []string
		for n := range frozen {
			unknown = append(unknown, fmt.Sprintf("%q", n))
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("train: frozen head tensor %s is not in the model's head (%s)",
			strings.Join(unknown, ", "), strings.Join(headNames, ", "))
	}
	plan, err := lm.Plan(cfg.Optim)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	opt, err := lm.NewAdamW(cfg.Optim)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t := &Trainer{cfg: cfg, model: model, lm: lm, opt: opt, plan: plan, data: data, lastSaved: -1}
	t.perEpoch = StepsPerEpoch(len(data.Train), cfg.BatchSize)
	t.total = cfg.MaxSteps
	if t.total == 0 {
		t.total = cfg.Epochs * t.perEpoch
	}
	if t.sched, err = loraplus.ParseSchedule(cfg.Schedule, cfg.Warmup, t.total); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.pcg = rand.NewPCG(cfg.Seed, 0x5eed)
	t.state = TrainerState{TotalSteps: t.total, StepsPerEpoch: t.perEpoch,
		Config: cfg.fingerprint(t.total, len(data.Train))}
	if t.state.RNG, err = t.pcg.MarshalBinary(); err != nil {
		return nil, err
	}
	if err := PrepareOut(cfg.Out, cfg.log()); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if cfg.Resume != "" {
		dir, err := ResolveCheckpoint(cfg.Out, cfg.Resume)
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

// Model returns the wrapped model (adapters and trainable tensors).
func (t *Trainer) Model() *loraplus.Model { return t.lm }

// Plan returns the optimizer plan: every trainable tensor with its group and learning rate.
func (t *Trainer) Plan() *loraplus.Plan { return t.plan }

// Optimizer returns the LoRA+ AdamW.
func (t *Trainer) Optimizer() *loraplus.AdamW { return t.opt }

// State returns the trainer's position (step, epoch, RNG state, best metric).
func (t *Trainer) State() TrainerState { return t.state }

// TotalSteps returns the number of optimizer steps of the run.
func (t *Trainer) TotalSteps() int { return t.total }

// Stop asks Run to finish the step in flight, write a checkpoint and return ErrInterrupted. It may be called
// from any goroutine (a signal handler).
func (t *Trainer) Stop() { t.stop.Store(true) }

// Result summarises a finished (or interrupted) run.
type Result struct {
	Task        string      `json:"task"`
	Step        int         `json:"global_step"`
	TotalSteps  int         `json:"total_steps"`
	Epoch       float64     `json:"epoch"`
	Metrics     Metrics     `json:"metrics"` // of the last evaluation
	Best        *BestMetric `json:"best,omitempty"`
	TrainLoss   float64     `json:"train_loss"` // mean loss over every step of the run, before a resume too
	Checkpoint  string      `json:"checkpoint"`
	Seconds     float64     `json:"train_seconds"`
	ExamplesSec float64     `json:"train_examples_per_second"`
	Interrupted bool        `json:"interrupted,omitempty"`
}

// Run trains until the last step, evaluating and checkpointing on the way, then writes metrics.json.
// It returns early with an error wrapping ErrInterrupted after Stop or when ctx ends, having written a
// checkpoint, and with an error naming the step when the loss is not finite (the last checkpoint stays the
// last good one).
func (t *Trainer) Run(ctx context.Context) (*Result, error) {
	if err := t.openHistory(); err != nil {
		return nil, err
	}
	log := t.cfg.log()
	bar := progress.NewTo(log, "train", t.total-t.state.Step)
	bar.Unit = "step"
	t.start, t.startStep = time.Now(), t.state.Step
	for t.state.Step < t.total {
		if t.stopRequested(ctx) {
			return t.interrupt()
		}
		factor := t.sched.Factor(t.state.Step)
		batch, err := t.nextBatch()
		if err != nil {
			return nil, err
		}
		loss, err := t.trainStep(batch, factor)
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
		exs := float64((step-t.startStep)*t.cfg.BatchSize) / math.Max(el, 1e-9)
		bar.Set(step-t.startStep, fmt.Sprintf("loss=%.4f lr_A=%.2e lr_B=%.2e ex/s=%.1f", loss,
			t.cfg.Optim.LR*factor, t.cfg.Optim.LR*t.cfg.Optim.Ratio*factor, exs))
		last := step == t.total
		if last || (t.cfg.EvalEvery > 0 && step%t.cfg.EvalEvery == 0) {
			if err := t.evaluateAndLog(factor); err != nil {
				return nil, err
			}
		}
		if last || (t.cfg.SaveEvery > 0 && step%t.cfg.SaveEvery == 0) {
			if _, err := t.SaveCheckpoint(); err != nil {
				return nil, err
			}
		}
	}
	bar.Done()
	FaultPoint("metrics", t.state.Step)
	res := t.result()
	if err := writeJSONFile(t.cfg.Out, MetricsFile, res); err != nil {
		return nil, err
	}
	if err := syncDir(t.cfg.Out); err != nil {
		return nil, fmt.Errorf("%s: sync: %w", t.cfg.Out, err)
	}
	return res, nil
}

func (t *Trainer) stopRequested(ctx context.Context) bool {
	return t.stop.Load() || (ctx != nil && ctx.Err() != nil)
}

func (t *Trainer) interrupt() (*Result, error) {
	dir, err := t.SaveCheckpoint()
	if err != nil {
		return nil, fmt.Errorf("train: interrupted at step %d, and the checkpoint failed: %w", t.state.Step, err)
	}
	res := t.result()
	res.Interrupted = true
	return res, fmt.Errorf("train: %w at step %d; checkpoint %s (resume with -resume latest)", ErrInterrupted, t.state.Step, dir)
}

// result summarises the run from its state, so that a resumed run (even one resumed at its last step) reports
// what the uninterrupted run would.
func (t *Trainer) result() *Result {
	el := time.Since(t.start).Seconds()
	res := &Result{Task: t.cfg.Task.Name, Step: t.state.Step, TotalSteps: t.total,
		Epoch: float64(t.state.Step) / float64(t.perEpoch), Metrics: t.state.Metrics, Best: t.state.Best,
		Checkpoint: t.checkpointDir(t.state.Step), Seconds: el,
		ExamplesSec: float64((t.state.Step-t.startStep)*t.cfg.BatchSize) / math.Max(el, 1e-9)}
	if t.state.RunLossSteps > 0 {
		res.TrainLoss = t.state.RunLossSum / float64(t.state.RunLossSteps)
	} else {
		res.TrainLoss = t.state.LastLoss
	}
	return res
}
