package glue

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

// EvalSet is one tokenized evaluation split, e.g. {Name: "mnli-mm", Suffix: "_mm"}.
type EvalSet struct {
	Name string
	// Suffix ends the names of the split's metrics (Split.Suffix): "eval_accuracy" + "_mm".
	Suffix string
	Data   []Encoded
}

// TrainData is the tokenized data of a run.
type TrainData struct {
	Train []Encoded
	Evals []EvalSet
	PadID int
}

// Trainer finetunes the LoRA adapters and the classification head of a model on a GLUE task: a training
// session (package train) whose task is the cross-entropy of the model's class logits (the mean squared error of
// its one output for a regression task, STS-B), evaluated on every evaluation set. All of its methods except
// Stop must run on one goroutine locked to its OS thread.
type Trainer struct {
	*train.Session
	c *classify
}

// NewTrainer attaches adapters to model (a pointer to a struct walked by nn.Modules, as loraplus.Wrap needs)
// and registers its head as trainable (PEFT's modules_to_save), except the tensors of cfg.FrozenHead, then
// starts a training session; with cfg.Resume set it restores a checkpoint.
func NewTrainer(model nn.SequenceClassifier, cfg TrainConfig, data TrainData) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if model == nil {
		return nil, fmt.Errorf("glue: train: no model")
	}
	if len(data.Train) == 0 {
		return nil, fmt.Errorf("glue: train: no training examples")
	}
	lm, err := loraplus.Wrap(model, cfg.LoRA)
	if err != nil {
		return nil, fmt.Errorf("glue: train: %w", err)
	}
	var heads []string
	for _, h := range model.Head() {
		heads = append(heads, h.Name)
		if slices.Contains(cfg.FrozenHead, h.Name) {
			continue
		}
		if err := lm.AddTrainable(h.Name, h.Tensor); err != nil {
			return nil, fmt.Errorf("glue: train: head: %w", err)
		}
	}
	var unknown []string
	for _, n := range cfg.FrozenHead {
		if !slices.Contains(heads, n) {
			unknown = append(unknown, fmt.Sprintf("%q", n))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("glue: train: frozen head tensor %s is not in the model's head (%s)",
			strings.Join(unknown, ", "), strings.Join(heads, ", "))
	}
	if _, ok := model.(nn.Checkpointer); cfg.GradCheckpoint && !ok {
		return nil, fmt.Errorf("glue: train: gradient checkpointing: the %T classifier does not support it (Llama models do)", model)
	}
	c := &classify{cfg: cfg, model: model, data: data}
	sc := cfg.Config
	sc.Name, sc.TaskType, sc.BestMetric = cfg.Task.Name, "SEQ_CLS", c.bestKey()
	sc.Settings = map[string]string{"max_len": fmt.Sprint(cfg.MaxLen), "pad_to_longest": fmt.Sprint(cfg.PadToLongest),
		"frozen_head": fmt.Sprint(cfg.FrozenHead)}
	s, err := train.New(lm, c, sc)
	if err != nil {
		return nil, err
	}
	return &Trainer{Session: s, c: c}, nil
}

// Evaluate scores the model on every evaluation set, with metric names as Hugging Face's run_glue.py writes
// them (EvalKeys): "eval_accuracy", "eval_accuracy_mm" for MNLI.
func (t *Trainer) Evaluate() (Metrics, error) { return t.c.Evaluate() }

// BestKey is the metric a run tracks as its best: the task's main metric on the first evaluation set
// (Task.BestKey, e.g. "eval_accuracy", "eval_matthews_correlation", "eval_pearson", "eval_combined_score").
func (t *Trainer) BestKey() string { return t.c.bestKey() }

// classify is the GLUE task of a training session: the cross-entropy of a sequence classifier's logits, or the
// mean squared error of its single output for a regression task.
type classify struct {
	cfg   TrainConfig
	model nn.SequenceClassifier
	data  TrainData
}

func (c *classify) Len() int { return len(c.data.Train) }

// DataFingerprint hashes the training examples' ids, labels and scores (train.DataFingerprinter).
func (c *classify) DataFingerprint() string {
	return train.Fingerprint(func(add func(...int)) {
		for _, e := range c.data.Train {
			add(e.IDs...)
			add(e.Label, int(math.Float64bits(e.Value)))
		}
	})
}

func (c *classify) bestKey() string {
	if len(c.data.Evals) == 0 {
		return ""
	}
	return c.cfg.Task.BestKey() + c.data.Evals[0].Suffix
}

// Backward runs the forward pass of the examples b.Indices with dropout, the mean cross-entropy of their
// logits (for a regression task the mean squared error of the output [B, 1] against the scores, as Hugging
// Face's MSELoss on the squeezed logits), and the backward pass of b.Scale times it, checkpointed with
// TrainConfig.GradCheckpoint. Its tokens are those of the attention mask.
func (c *classify) Backward(b train.Batch) (train.Loss, error) {
	batch, err := c.makeBatch(c.data.Train, b.Indices)
	if err != nil {
		return train.Loss{}, err
	}
	ids, mask, labels, err := c.inputs(batch)
	if err != nil {
		return train.Loss{}, err
	}
	defer func() {
		ids.MustDrop()
		mask.MustDrop()
		labels.MustDrop()
	}()
	tokens := 0
	for _, m := range batch.Mask {
		tokens += int(m)
	}
	lossOf := func(logits *ts.Tensor) *ts.Tensor {
		if c.cfg.Task.Regression {
			return logits.MustSqueezeDim(-1, false).MustMseLoss(labels, int64(ts.ReductionMean), true)
		}
		return logits.MustCrossEntropyLoss(labels, ts.None, ts.ReductionMean, -100, 0, false)
	}
	scale := func(loss *ts.Tensor) *ts.Tensor {
		if b.Scale == 1 {
			return loss
		}
		return loss.MustMulScalar(ts.FloatScalar(b.Scale), true)
	}
	if c.cfg.GradCheckpoint {
		var v float64
		_, err := c.model.(nn.Checkpointer).CheckpointBackward(ids, mask, func(logits *ts.Tensor) *ts.Tensor {
			loss := lossOf(logits)
			v = loss.Float64Values()[0]
			return scale(loss)
		}, func(layer int) error { return nn.ManualSeed(nn.MixSeed(b.Seed, layer)) })
		return train.Loss{Value: v, Tokens: tokens}, err
	}
	logits, err := c.logits(ids, mask, true)
	if err != nil {
		return train.Loss{}, err
	}
	loss := lossOf(logits)
	logits.MustDrop()
	v := loss.Float64Values()[0]
	loss = scale(loss)
	loss.MustBackward()
	loss.MustDrop()
	return train.Loss{Value: v, Tokens: tokens}, nil
}

// Evaluate scores the model on every evaluation set.
func (c *classify) Evaluate() (Metrics, error) {
	all := Metrics{}
	for _, set := range c.data.Evals {
		p, err := c.predict(set.Data)
		if err != nil {
			return nil, fmt.Errorf("glue: evaluate %s: %w", set.Name, err)
		}
		var m Metrics
		if c.cfg.Task.Regression {
			m, err = c.cfg.Task.EvaluateScores(p.scores, p.gold)
		} else {
			m, err = c.cfg.Task.Evaluate(p.classes, p.labels)
		}
		if err != nil {
			return nil, fmt.Errorf("glue: evaluate %s: %w", set.Name, err)
		}
		if all, err = MergeMetrics(all, EvalKeys(m, set.Suffix)); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// predictions are the model's answers on an evaluation set, in order, with the gold answers: classes and
// labels for a classification task, scores and gold for a regression task.
type predictions struct {
	classes, labels []int
	scores, gold    []float64
}

// predict returns the argmax class of every example, or for a regression task its output, with the gold
// labels or scores. In a data-parallel run each rank scores its contiguous share of the examples and the shares
// are gathered (gather), so that every rank gets every prediction.
func (c *classify) predict(data []Encoded) (p predictions, err error) {
	if len(data) == 0 {
		return p, fmt.Errorf("no examples")
	}
	lo, hi := 0, len(data)
	if d := c.cfg.Dist; d != nil {
		lo, hi = len(data)*d.Rank/d.WorldSize, len(data)*(d.Rank+1)/d.WorldSize
		defer func() {
			if err == nil {
				p, err = c.gather(data, lo, p)
			}
		}()
	}
	size := c.cfg.evalBatch()
	nn.NoGrad(func() {
		for i := lo; i < hi && err == nil; i += size {
			idx := make([]int, 0, size)
			for j := i; j < min(i+size, hi); j++ {
				idx = append(idx, j)
			}
			var b *Batch
			if b, err = c.makeBatch(data, idx); err != nil {
				return
			}
			var ids, mask, lab, logits *ts.Tensor
			if ids, mask, lab, err = c.inputs(b); err != nil {
				return
			}
			logits, err = c.logits(ids, mask, false)
			ids.MustDrop()
			mask.MustDrop()
			lab.MustDrop()
			if err != nil {
				return
			}
			if c.cfg.Task.Regression {
				p.scores = append(p.scores, logits.MustView([]int64{-1}, true).Float64Values(true)...)
				for _, v := range b.Values {
					p.gold = append(p.gold, float64(v))
				}
				continue
			}
			am := logits.MustArgmax([]int64{-1}, false, true)
			for _, k := range am.Int64Values(true) {
				p.classes = append(p.classes, int(k))
			}
			for _, l := range b.Labels {
				p.labels = append(p.labels, int(l))
			}
		}
	})
	return p, err
}

// gather puts together the predictions of every rank's share of data (this rank's, p, begin at lo): one
// all-reduce of an fp32 buffer with each rank's predictions at their places and zeros elsewhere (classes and the
// model's fp32 outputs are exact in it). The gold answers come from data, as the batches give them.
func (c *classify) gather(data []Encoded, lo int, p predictions) (predictions, error) {
	buf := make([]float32, len(data))
	if c.cfg.Task.Regression {
		for i, v := range p.scores {
			buf[lo+i] = float32(v)
		}
	} else {
		for i, k := range p.classes {
			buf[lo+i] = float32(k)
		}
	}
	t := ts.MustOfSlice(buf)
	defer t.MustDrop()
	if err := c.cfg.Dist.AllReduceSum([]*ts.Tensor{t}); err != nil {
		return p, err
	}
	var all predictions
	for i, v := range t.Float64Values() {
		if c.cfg.Task.Regression {
			all.scores = append(all.scores, v)
			all.gold = append(all.gold, float64(float32(data[i].Value)))
		} else {
			all.classes = append(all.classes, int(v))
			all.labels = append(all.labels, data[i].Label)
		}
	}
	return all, nil
}

func (c *classify) makeBatch(data []Encoded, idx []int) (*Batch, error) {
	cols := c.cfg.MaxLen
	if c.cfg.PadToLongest {
		cols = 0
	}
	return MakeBatch(data, idx, cols, c.data.PadID)
}

// inputs moves a batch to the device and lets the model check it (nn.InputChecker): ids and mask [B, T] (int64),
// and the labels [B] (int64), or for a regression task the scores [B] (float32).
func (c *classify) inputs(b *Batch) (ids, mask, labels *ts.Tensor, err error) {
	dev := c.cfg.Device
	mk := func(x *ts.Tensor) *ts.Tensor {
		if dev != gotch.CPU {
			x = x.MustTo(dev, true)
		}
		return x
	}
	r, cols := int64(b.Rows), int64(b.Cols)
	ids = mk(ts.MustOfSlice(b.IDs).MustView([]int64{r, cols}, true))
	mask = mk(ts.MustOfSlice(b.Mask).MustView([]int64{r, cols}, true))
	if ch, ok := c.model.(nn.InputChecker); ok {
		if err := ch.CheckInputs(ids, mask); err != nil {
			ids.MustDrop()
			mask.MustDrop()
			return nil, nil, nil, fmt.Errorf("batch does not fit the model: %w", err)
		}
	}
	if c.cfg.Task.Regression {
		return ids, mask, mk(ts.MustOfSlice(b.Values)), nil
	}
	return ids, mask, mk(ts.MustOfSlice(b.Labels)), nil
}

// logits returns the model's class logits [B, C] (for a regression task its outputs [B, 1]) on ids and mask.
func (c *classify) logits(ids, mask *ts.Tensor, train bool) (*ts.Tensor, error) {
	logits := c.model.Logits(ids, mask, train)
	r := ids.MustSize()[0]
	if s := logits.MustSize(); len(s) != 2 || s[0] != r || s[1] != int64(c.cfg.Task.NumLabels()) {
		logits.MustDrop()
		return nil, fmt.Errorf("model returned logits of shape %v, want [%d %d] (batch, %s labels)", s, r,
			c.cfg.Task.NumLabels(), c.cfg.Task.Name)
	}
	return logits, nil
}
