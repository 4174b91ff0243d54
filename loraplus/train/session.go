package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/progress"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// ErrInterrupted is returned (wrapped) by Session.Run when Stop was called or its context ended: the step in
// flight was finished and a checkpoint written.
var ErrInterrupted = errors.New("training interrupted")

// Task is what a session trains: a set of examples and the loss of a batch of them.
type Task interface {
	// Len is the number of training examples.
	Len() int
	// Backward computes the loss of the training examples b.Indices in training mode (dropout on) and
	// back-propagates b.Scale times it into the gradients of the trainable tensors, which it must not clear.
	// (A loss that is a mean over tokens rather than examples weighs a batch by its share of the tokens of
	// b.All instead, so that accumulated batches still give the step of one batch of all of them.)
	// It returns the unscaled loss and the number of input tokens of the batch (0 if the task does not count
	// them). libtorch's generator is seeded with b.Seed before the call.
	Backward(b Batch) (Loss, error)
}

// DataFingerprinter is a Task that can summarise its training examples (a hash of their token ids and labels): a
// data-parallel session refuses to start when its ranks' summaries differ.
type DataFingerprinter interface {
	DataFingerprint() string
}

// Fingerprint returns the hex SHA-256 of the integer sequences that each hands to add, each sequence
// length-prefixed (for DataFingerprint).
func Fingerprint(each func(add func(v ...int))) string {
	h := sha256.New()
	var buf [8]byte
	put := func(x int) {
		binary.LittleEndian.PutUint64(buf[:], uint64(x))
		h.Write(buf[:])
	}
	each(func(v ...int) {
		put(len(v))
		for _, x := range v {
			put(x)
		}
	})
	return hex.EncodeToString(h.Sum(nil))
}

// Evaluator is a Task that can score the model; a session evaluates every Config.EvalEvery steps and at the end.
type Evaluator interface {
	Evaluate() (Metrics, error)
}

// Batch is one batch of an optimizer step (one of Config.GradAccum).
type Batch struct {
	Indices []int   // training examples, in the epoch's order
	All     []int   // the examples of the whole optimizer step (Indices when there is no accumulation)
	Step    int     // the optimizer step it belongs to, from 0
	Micro   int     // its index among the step's batches (Config.GradAccum), from 0
	Seed    uint64  // the seed libtorch's generator got before Backward; for a task that reseeds per layer
	Scale   float64 // the weight of its loss in the step: its share of the step's examples (see Task)
}

// Loss is what Backward returns.
type Loss struct {
	Value  float64 // the mean loss of the batch, unscaled
	Tokens int     // input tokens of the batch (padding excluded); 0 if not counted
	// Share is the weight the task gave the batch in the step when it is not Batch.Scale (a mean over tokens);
	// the step's loss is the sum of Share·Value over its batches. 0 means Batch.Scale.
	Share float64
}

// Result summarises a finished (or interrupted) run; it is metrics.json.
type Result struct {
	Task        string      `json:"task,omitempty"`
	Step        int         `json:"global_step"`
	TotalSteps  int         `json:"total_steps"`
	Epoch       float64     `json:"epoch"`
	Metrics     Metrics     `json:"metrics,omitempty"` // of the last evaluation
	Best        *BestMetric `json:"best,omitempty"`
	TrainLoss   float64     `json:"train_loss"` // mean loss over every step of the run, before a resume too
	LastLoss    float64     `json:"last_loss"`
	Checkpoint  string      `json:"checkpoint"`
	Seconds     float64     `json:"train_seconds"`
	SecPerStep  float64     `json:"seconds_per_step"`
	ExamplesSec float64     `json:"train_examples_per_second"`
	TokensSec   float64     `json:"train_tokens_per_second"` // input tokens, padding excluded; 0 where the task does not count them
	Interrupted bool        `json:"interrupted,omitempty"`
}

// Session trains the trainable tensors of a wrapped model on a task with LoRA+ AdamW. All its methods except
// Stop must run on one goroutine locked to its OS thread.
type Session struct {
	cfg   Config
	task  Task
	lm    *loraplus.Model
	opt   *loraplus.AdamW
	sched loraplus.Schedule
	plan  *loraplus.Plan

	total, perEpoch int
	state           State
	pcg             *rand.PCG
	order           [][]int // batches of the current epoch; nil until drawn

	stop      atomic.Bool
	stopAll   bool // set by step in a data-parallel run when any rank was stopped
	lastSaved int
	start     time.Time
	startStep int
	examples  int // trained examples since Run started
	tokens    int // trained tokens since Run started
	win       logWindow
	tb        *EventWriter // the TensorBoard event file of this Run; nil when Config.LogEvery is 0
}

// New builds the LoRA+ AdamW and the schedule for the trainable tensors of lm (its adapters and any tensor
// added with AddTrainable) and readies cfg.Out; with cfg.Resume set it restores a checkpoint: trainable tensors,
// optimizer state, position and shuffling RNG, after checking that the run's settings match the checkpoint's.
func New(lm *loraplus.Model, task Task, cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if lm == nil || task == nil {
		return nil, fmt.Errorf("train: no model or no task")
	}
	n := task.Len()
	if n == 0 {
		return nil, fmt.Errorf("train: no training examples")
	}
	s := &Session{cfg: cfg, task: task, lm: lm, lastSaved: -1}
	var err error
	if s.plan, err = lm.Plan(cfg.Optim); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if s.opt, err = lm.NewAdamW(cfg.Optim); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	s.perEpoch = StepsPerEpoch(n, cfg.StepBatch())
	s.total = cfg.MaxSteps
	if s.total == 0 {
		s.total = cfg.Epochs * s.perEpoch
	}
	if s.sched, err = loraplus.ParseSchedule(cfg.Schedule, cfg.Warmup, s.total); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	s.pcg = rand.NewPCG(cfg.Seed, 0x5eed)
	s.state = State{TotalSteps: s.total, StepsPerEpoch: s.perEpoch, Config: cfg.fingerprint(lm.Config, s.total, n)}
	if s.state.RNG, err = s.pcg.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if cfg.main() {
		if err := PrepareOut(cfg.Out, cfg.log()); err != nil {
			return nil, err
		}
	}
	if cfg.Dist != nil {
		if w := cfg.Dist.WorldSize; cfg.StepBatch() < w {
			return nil, fmt.Errorf("train: a step of %d examples cannot be shared by %d ranks", cfg.StepBatch(), w)
		}
		fp, err := json.Marshal(s.state.Config)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		data := ""
		if f, ok := task.(DataFingerprinter); ok {
			data = f.DataFingerprint()
		}
		if err := cfg.Dist.CheckSame([]string{"training settings", "training data", "resume"}, []string{string(fp), data, cfg.Resume}); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if cfg.Resume != "" {
		dir, err := ResolveCheckpoint(cfg.Out, cfg.Resume)
		if err != nil {
			return nil, err
		}
		if err := s.restore(dir); err != nil {
			return nil, err
		}
		s.lastSaved = s.state.Step
	}
	if cfg.Dist != nil { // every rank starts from rank 0's tensors
		if err := cfg.Dist.Broadcast(lm.Trainable()); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	return s, nil
}

// Model returns the wrapped model (adapters and trainable tensors).
func (s *Session) Model() *loraplus.Model { return s.lm }

// Plan returns the optimizer plan: every trainable tensor with its group and learning rate.
func (s *Session) Plan() *loraplus.Plan { return s.plan }

// Optimizer returns the LoRA+ AdamW.
func (s *Session) Optimizer() *loraplus.AdamW { return s.opt }

// State returns the session's position (step, epoch, RNG state, losses, best metric).
func (s *Session) State() State { return s.state }

// TotalSteps returns the number of optimizer steps of the run.
func (s *Session) TotalSteps() int { return s.total }

// Stop asks Run to finish the step in flight, write a checkpoint and return ErrInterrupted. It may be called
// from any goroutine (a signal handler).
func (s *Session) Stop() { s.stop.Store(true) }

// Run trains until the last step, evaluating (an Evaluator task) and checkpointing on the way, then writes
// metrics.json. It returns early with an error wrapping ErrInterrupted after Stop or when ctx ends, having
// written a checkpoint, and with an error naming the step when the loss or the gradient norm is not finite (the
// update is not applied and the last checkpoint stays the last good one).
func (s *Session) Run(ctx context.Context) (*Result, error) {
	_, evaluates := s.task.(Evaluator)
	main := s.cfg.main()
	if evaluates && main {
		if err := openHistory(s.cfg.Out, s.state.Step); err != nil {
			return nil, err
		}
	}
	if s.cfg.LogEvery > 0 && main {
		if err := truncateJSONL(s.cfg.Out, LogFile, "log", s.state.Step); err != nil {
			return nil, err
		}
		tb, err := NewEventWriter(filepath.Join(s.cfg.Out, TensorBoardDir))
		if err != nil {
			return nil, err
		}
		s.tb = tb
		defer func() {
			if s.tb != nil {
				s.tb.Close()
				s.tb = nil
			}
		}()
		if err := s.tb.Start(s.state.Step + 1); err != nil {
			return nil, err
		}
	}
	bar := progress.NewTo(s.cfg.log(), "train", s.total-s.state.Step)
	bar.Unit = "step"
	s.start, s.startStep, s.examples, s.tokens = time.Now(), s.state.Step, 0, 0
	s.win = logWindow{start: s.start}
	for s.state.Step < s.total {
		if ctx != nil && ctx.Err() != nil {
			s.stop.Store(true)
		}
		// data-parallel: a rank's stop travels with the next step's all-reduce, so that every rank stops after
		// the same step
		if s.stop.Load() && (s.cfg.Dist == nil || s.stopAll) {
			return s.interrupt()
		}
		factor := s.sched.Factor(s.state.Step)
		loss, norm, err := s.step(factor)
		if err != nil {
			return nil, err
		}
		if s.stopAll { // a rank of a data-parallel run was stopped: every rank stops after this step
			s.stop.Store(true)
		}
		if s.state.Advance(len(s.order), s.pcg) {
			s.order = nil
		}
		s.state.AddLoss(loss)
		step := s.state.Step
		if s.cfg.OnStep != nil {
			s.cfg.OnStep(step, loss)
		}
		bar.Set(step-s.startStep, fmt.Sprintf("loss=%.4f lr_A=%.2e lr_B=%.2e %s", loss,
			s.cfg.Optim.LR*factor, s.cfg.Optim.LR*s.cfg.Optim.Ratio*factor, s.speed()))
		if s.cfg.LogEvery > 0 && main && step%s.cfg.LogEvery == 0 {
			if err := s.logStep(norm); err != nil {
				return nil, err
			}
		}
		last := step == s.total
		if evaluates && (last || (s.cfg.EvalEvery > 0 && step%s.cfg.EvalEvery == 0)) {
			if err := s.evaluate(factor); err != nil {
				return nil, err
			}
		}
		if last || (s.cfg.SaveEvery > 0 && step%s.cfg.SaveEvery == 0) {
			if _, err := s.SaveCheckpoint(); err != nil {
				return nil, err
			}
		}
	}
	bar.Done()
	if s.tb != nil {
		err := s.tb.Close()
		s.tb = nil
		if err != nil {
			return nil, err
		}
	}
	FaultPoint("metrics", s.state.Step)
	res := s.result()
	if !main {
		return res, nil
	}
	if err := WriteJSON(filepath.Join(s.cfg.Out, MetricsFile), res); err != nil {
		return nil, err
	}
	if err := syncDir(s.cfg.Out); err != nil {
		return nil, fmt.Errorf("train: %s: sync: %w", s.cfg.Out, err)
	}
	return res, nil
}

// speed is the progress bar's throughput: tokens per second where the task counts them, else examples.
func (s *Session) speed() string {
	el := math.Max(time.Since(s.start).Seconds(), 1e-9)
	if s.tokens > 0 {
		return fmt.Sprintf("tok/s=%.0f", float64(s.tokens)/el)
	}
	return fmt.Sprintf("ex/s=%.1f", float64(s.examples)/el)
}

// step takes the next batch through the task's Backward (in micro-batches), clips the gradients and applies
// the optimizer step at lr factor; it returns the batch's loss and the gradient norm before clipping (computed
// without clipping only for a step that log.jsonl records; NaN otherwise). Nothing is updated when the loss or
// the gradient norm is not finite.
func (s *Session) step(factor float64) (loss, norm float64, err error) {
	norm = math.NaN()
	idx, err := s.nextBatch()
	if err != nil {
		return 0, norm, err
	}
	step := s.state.Step + 1
	mine := idx
	if d := s.cfg.Dist; d != nil { // this rank's contiguous share of the step's examples
		mine = idx[len(idx)*d.Rank/d.WorldSize : len(idx)*(d.Rank+1)/d.WorldSize]
	}
	micros := BatchIndices(mine, s.cfg.BatchSize)
	if err := s.opt.ZeroGrad(); err != nil {
		return 0, norm, err
	}
	var v float64
	var examples, tokens int // of this step, over every rank
	for m, part := range micros {
		b := Batch{Indices: part, All: idx, Step: s.state.Step, Micro: m, Seed: nn.MixSeed(s.cfg.Seed, s.state.Step),
			Scale: float64(len(part)) / float64(len(idx))}
		if m > 0 {
			b.Seed = nn.MixSeed(b.Seed, -m)
		}
		if d := s.cfg.Dist; d != nil && d.Rank > 0 { // other dropout masks on other ranks' examples
			b.Seed = nn.MixSeed(b.Seed, -1000-d.Rank)
		}
		if err := nn.ManualSeed(b.Seed); err != nil {
			return 0, norm, err
		}
		l, err := s.task.Backward(b)
		if err != nil {
			return 0, norm, fmt.Errorf("train: step %d: %w", step, err)
		}
		if !finite(l.Value) && s.cfg.Dist == nil { // data-parallel: checked on the step's loss, on every rank
			return 0, norm, fmt.Errorf("train: loss is %v at step %d (epoch %d, batch %d); stopped before the update, last good checkpoint: %s",
				l.Value, step, s.state.Epoch, s.state.EpochStep, s.lastCheckpointName())
		}
		share := b.Scale
		if l.Share > 0 {
			share = l.Share
		}
		v += share * l.Value
		examples += len(part)
		tokens += l.Tokens
	}
	if s.cfg.Dist != nil {
		if v, examples, tokens, err = s.reduce(v, examples, tokens, step); err != nil {
			return 0, norm, err
		}
	}
	s.examples, s.tokens = s.examples+examples, s.tokens+tokens
	s.win.examples, s.win.tokens = s.win.examples+examples, s.win.tokens+tokens
	if s.cfg.ClipNorm > 0 {
		if norm = loraplus.ClipGradNorm(s.lm.Trainable(), s.cfg.ClipNorm); !finite(norm) {
			return 0, norm, fmt.Errorf("train: gradient norm is %v at step %d; stopped before the update, last good checkpoint: %s",
				norm, step, s.lastCheckpointName())
		}
	} else if s.cfg.LogEvery > 0 && step%s.cfg.LogEvery == 0 {
		norm = loraplus.GradNorm(s.lm.Trainable())
	}
	FaultPoint("step", step)
	if err := s.opt.Step(factor); err != nil {
		return 0, norm, fmt.Errorf("train: step %d: %w", step, err)
	}
	s.state.LastLoss = v
	return v, norm, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// reduce sums, over the ranks of a data-parallel step, the trainable tensors' gradients (a rank whose share was
// empty adds zeros), the step's loss v (each rank's part of it), its examples and tokens, and whether a rank was
// stopped, and returns the step's loss, examples and tokens; a loss that is not finite stops every rank before
// the update.
func (s *Session) reduce(v float64, examples, tokens, step int) (float64, int, int, error) {
	params := s.lm.Trainable()
	grads := make([]*ts.Tensor, 0, len(params)+1)
	defer func() {
		for _, g := range grads {
			g.MustDrop()
		}
	}()
	for _, p := range params {
		g := p.MustGrad(false)
		if !g.MustDefined() {
			g.MustDrop()
			z := p.MustSum(p.DType(), false).MustMulScalar(ts.FloatScalar(0), true)
			z.MustBackward()
			z.MustDrop()
			g = p.MustGrad(false)
		}
		grads = append(grads, g)
	}
	stop := 0.0
	if s.stop.Load() {
		stop = 1
	}
	extra := ts.MustOfSlice([]float32{float32(v), float32(stop), float32(examples), float32(tokens)})
	if len(params) > 0 { // beside the gradients, on their device
		extra = extra.MustTo(params[0].MustDevice(), true)
	}
	grads = append(grads, extra)
	if err := s.cfg.Dist.AllReduceSum(grads); err != nil {
		return 0, 0, 0, fmt.Errorf("train: step %d: %w", step, err)
	}
	vals := extra.Float64Values()
	v, s.stopAll, examples, tokens = vals[0], vals[1] > 0, int(vals[2]), int(vals[3])
	if !finite(v) {
		return 0, 0, 0, fmt.Errorf("train: loss is %v at step %d (epoch %d, over %d ranks); stopped before the update, last good checkpoint: %s",
			v, step, s.state.Epoch, s.cfg.Dist.WorldSize, s.lastCheckpointName())
	}
	return v, examples, tokens, nil
}

// nextBatch draws the epoch's order when a new epoch starts and returns the next batch of example indices.
func (s *Session) nextBatch() ([]int, error) {
	if s.order == nil {
		// The PCG stands at s.state.RNG, the state recorded for the start of this epoch.
		s.order = BatchIndices(EpochOrder(rand.New(s.pcg), s.task.Len(), true), s.cfg.StepBatch())
	}
	if s.state.EpochStep >= len(s.order) {
		return nil, fmt.Errorf("train: position %d is past the %d batches of epoch %d", s.state.EpochStep, len(s.order), s.state.Epoch)
	}
	return s.order[s.state.EpochStep], nil
}

// evaluate scores the model, records the metrics and the best one in the state and appends a history entry.
func (s *Session) evaluate(factor float64) error {
	m, err := s.task.(Evaluator).Evaluate()
	if err != nil {
		return fmt.Errorf("train: step %d: %w", s.state.Step, err)
	}
	s.state.Metrics = m
	step := s.state.Step
	if v, ok := m[s.cfg.BestMetric]; ok && (s.state.Best == nil || v > s.state.Best.Value) {
		s.state.Best = &BestMetric{Name: s.cfg.BestMetric, Value: v, Step: step}
	}
	e := HistoryEntry{Step: step, Epoch: float64(step) / float64(s.perEpoch), Metrics: m,
		LRA: s.cfg.Optim.LR * factor, LRB: s.cfg.Optim.LR * s.cfg.Optim.Ratio * factor,
		Seconds: time.Since(s.start).Seconds()}
	if s.state.LossSteps > 0 {
		e.TrainLoss = s.state.LossSum / float64(s.state.LossSteps)
	}
	s.state.LossSum, s.state.LossSteps = 0, 0
	fmt.Fprintf(s.cfg.log(), "\neval step %d (epoch %.2f): %s train_loss=%.4f\n", step, e.Epoch, m, e.TrainLoss)
	if !s.cfg.main() {
		return nil
	}
	if err := appendHistory(s.cfg.Out, e); err != nil {
		return err
	}
	if s.tb == nil {
		return nil
	}
	tags := make(map[string]float64, len(m))
	for k, v := range m {
		tags[tbEvalTag(k)] = v
	}
	return s.tb.Scalars(step, tags)
}

func (s *Session) interrupt() (*Result, error) {
	dir, err := s.SaveCheckpoint()
	if err != nil {
		return nil, fmt.Errorf("train: interrupted at step %d, and the checkpoint failed: %w", s.state.Step, err)
	}
	res := s.result()
	res.Interrupted = true
	return res, fmt.Errorf("train: %w at step %d; checkpoint %s (resume with -resume latest)", ErrInterrupted, s.state.Step, dir)
}

// result summarises the run from its state, so that a resumed run (even one resumed at its last step) reports
// what the uninterrupted run would.
func (s *Session) result() *Result {
	el := time.Since(s.start).Seconds()
	res := &Result{Task: s.cfg.Name, Step: s.state.Step, TotalSteps: s.total,
		Epoch: float64(s.state.Step) / float64(s.perEpoch), Metrics: s.state.Metrics, Best: s.state.Best,
		LastLoss: s.state.LastLoss, TrainLoss: s.state.LastLoss, Checkpoint: CheckpointDir(s.cfg.Out, s.state.Step),
		Seconds: el, ExamplesSec: float64(s.examples) / math.Max(el, 1e-9), TokensSec: float64(s.tokens) / math.Max(el, 1e-9)}
	if n := s.state.Step - s.startStep; n > 0 {
		res.SecPerStep = el / float64(n)
	}
	if s.state.RunLossSteps > 0 {
		res.TrainLoss = s.state.RunLossSum / float64(s.state.RunLossSteps)
	}
	return res
}

// SaveCheckpoint writes out/checkpoint-STEP/ with WriteCheckpoint (atomically and durably): the PEFT adapter
// with every trainable tensor, OptimizerFile and StateFile. A trainable tensor that is not finite is an error
// and nothing is written. Older checkpoints beyond Config.Keep, and partial folders of interrupted writes, are
// removed afterwards.
func (s *Session) SaveCheckpoint() (string, error) {
	step := s.state.Step
	if !s.cfg.main() { // rank 0 writes it
		s.lastSaved = step
		return CheckpointDir(s.cfg.Out, step), nil
	}
	if s.lastSaved == step {
		if _, err := os.Stat(CheckpointDir(s.cfg.Out, step)); err == nil {
			return CheckpointDir(s.cfg.Out, step), nil
		}
	}
	for _, p := range s.lm.Params {
		a := p.Tensor.MustDetach(false).MustAbs(true).MustMax(true)
		if v := a.Float64Values(true)[0]; !finite(v) {
			return "", fmt.Errorf("train: checkpoint step %d: tensor %q is not finite; not saving it", step, p.Name)
		}
	}
	st := s.state
	var err error
	if st.HFState, err = s.hfState(); err != nil {
		return "", err
	}
	optim := s.cfg.Optim
	info := map[string]string{"task": s.cfg.Name, "global_step": strconv.Itoa(step)}
	maps.Copy(info, s.cfg.AdapterInfo)
	dir, err := WriteCheckpoint(s.cfg.Out, step, []Part{
		{Stage: "adapter", Write: func(dir string) error {
			return s.lm.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: s.cfg.BaseModel, TaskType: s.cfg.TaskType,
				Optim: &optim, Extra: info})
		}},
		{Stage: "optimizer", Write: func(dir string) error {
			tensors, meta := s.opt.State()
			return weights.WriteSafetensors(filepath.Join(dir, OptimizerFile), tensors, meta)
		}},
		{Stage: "state", Write: func(dir string) error { return WriteJSON(filepath.Join(dir, StateFile), st) }},
	})
	if err != nil {
		return "", err
	}
	s.lastSaved = step
	return dir, PruneCheckpoints(s.cfg.Out, s.cfg.Keep, s.cfg.log())
}

func (s *Session) lastCheckpointName() string {
	cps, _ := Checkpoints(s.cfg.Out)
	if len(cps) == 0 {
		return "none"
	}
	return cps[len(cps)-1].Dir
}

// restore loads a checkpoint into the session: it checks that the run's settings match, then loads the
// trainable tensors, the optimizer state and the shuffling RNG.
func (s *Session) restore(dir string) error {
	st, err := ReadState(dir)
	if err != nil {
		return err
	}
	if err := diffFingerprint(st.Config, s.state.Config); err != nil {
		return fmt.Errorf("train: resume %s: %w", dir, err)
	}
	if err := st.Check(s.total, s.perEpoch); err != nil {
		return fmt.Errorf("train: resume %s: %w", filepath.Join(dir, StateFile), err)
	}
	if err := s.pcg.UnmarshalBinary(st.RNG); err != nil {
		return fmt.Errorf("train: resume %s: rng_state: %w", dir, err)
	}
	if err := s.lm.LoadTrainable(filepath.Join(dir, loraplus.AdapterWeightsFile)); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	path := filepath.Join(dir, OptimizerFile)
	tensors, meta, err := weights.ReadSafetensors(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	defer func() {
		for _, x := range tensors {
			x.MustDrop()
		}
	}()
	if err := s.opt.LoadState(tensors, meta); err != nil {
		return fmt.Errorf("train: resume %s: %w", path, err)
	}
	s.state = st
	s.state.HFState = HFState{} // written afresh at every checkpoint; not kept in memory
	s.order = nil
	return nil
}
