package glue

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// Files a run writes in its output directory.
const (
	// MetricsFile holds the final Result as JSON.
	MetricsFile = "metrics.json"
	// HistoryFile holds one HistoryEntry per evaluation, one JSON object a line.
	HistoryFile = "history.jsonl"
)

// HistoryEntry is one evaluation of a run, for plotting accuracy over steps.
type HistoryEntry struct {
	Step      int     `json:"step"`
	Epoch     float64 `json:"epoch"`
	TrainLoss float64 `json:"train_loss"` // mean training loss since the previous entry
	LRA       float64 `json:"lr_A"`
	LRB       float64 `json:"lr_B"`
	Metrics   Metrics `json:"metrics"`
	Seconds   float64 `json:"seconds"` // wall time since the run (or the resume) started
}

// Evaluate scores the model on every evaluation set, with metric names prefixed by the set's name
// ("mnli-m/acc", "mnli-mm/acc").
func (t *Trainer) Evaluate() (Metrics, error) {
	all := Metrics{}
	for _, set := range t.data.Evals {
		preds, labels, err := t.predict(set.Data)
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", set.Name, err)
		}
		m, err := t.cfg.Task.Evaluate(preds, labels)
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", set.Name, err)
		}
		if all, err = MergeMetrics(all, m.WithPrefix(set.Name)); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// predict returns the argmax class of every example, in order, and the gold labels.
func (t *Trainer) predict(data []Encoded) (preds, labels []int, err error) {
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("no examples")
	}
	size := t.cfg.evalBatch()
	nn.NoGrad(func() {
		for i := 0; i < len(data) && err == nil; i += size {
			idx := make([]int, 0, size)
			for j := i; j < min(i+size, len(data)); j++ {
				idx = append(idx, j)
			}
			var b *Batch
			if b, err = t.makeBatch(data, idx); err != nil {
				return
			}
			ids, mask, lab := t.toTensors(b)
			lab.MustDrop()
			if err = t.checkInputs(ids, mask); err != nil {
				ids.MustDrop()
				mask.MustDrop()
				return
			}
			logits := t.model.Logits(ids, mask, false)
			ids.MustDrop()
			mask.MustDrop()
			if err = t.checkLogits(logits, b.Rows); err != nil {
				logits.MustDrop()
				return
			}
			am := logits.MustArgmax([]int64{-1}, false, true)
			for _, p := range am.Int64Values(true) {
				preds = append(preds, int(p))
			}
			for _, l := range b.Labels {
				labels = append(labels, int(l))
			}
		}
	})
	return preds, labels, err
}

// BestKey is the metric a run tracks as its best: accuracy on the first evaluation set ("mnli-m/acc").
func (t *Trainer) BestKey() string {
	if len(t.data.Evals) == 0 {
		return ""
	}
	return t.data.Evals[0].Name + "/acc"
}

// evaluateAndLog evaluates, records the metrics and the best one in the state and appends a history entry.
func (t *Trainer) evaluateAndLog(factor float64) error {
	if len(t.data.Evals) == 0 {
		return nil
	}
	m, err := t.Evaluate()
	if err != nil {
		return err
	}
	t.state.Metrics = m
	step := t.state.Step
	if v, ok := m[t.BestKey()]; ok && (t.state.Best == nil || v > t.state.Best.Value) {
		t.state.Best = &BestMetric{Name: t.BestKey(), Value: v, Step: step}
	}
	e := HistoryEntry{Step: step, Epoch: float64(step) / float64(t.perEpoch), Metrics: m,
		LRA: t.cfg.Optim.LR * factor, LRB: t.cfg.Optim.LR * t.cfg.Optim.Ratio * factor,
		Seconds: time.Since(t.start).Seconds()}
	if t.state.LossSteps > 0 {
		e.TrainLoss = t.state.LossSum / float64(t.state.LossSteps)
	}
	t.state.LossSum, t.state.LossSteps = 0, 0
	fmt.Fprintf(t.cfg.log(), "\neval step %d (epoch %.2f): %s train_loss=%.4f\n", step, e.Epoch, m, e.TrainLoss)
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(t.cfg.Out, HistoryFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("history: %w", err)
	}
	return f.Close()
}

// openHistory starts history.jsonl afresh, or, after a resume, keeps only the entries up to the resumed step.
// With nothing to keep it removes the file rather than leaving an empty one: the first evaluation creates it.
func (t *Trainer) openHistory() error {
	path := filepath.Join(t.cfg.Out, HistoryFile)
	var keep []byte
	if t.state.Step > 0 {
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("history: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var e HistoryEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Step <= t.state.Step {
				keep = append(append(keep, sc.Bytes()...), '\n')
			}
		}
	}
	if len(keep) == 0 {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("history: %w", err)
		}
		return nil
	}
	return weights.WriteFileAtomic(path, keep)
}

// ReadHistory reads a history.jsonl file; a bad line is an error naming it.
func ReadHistory(path string) ([]HistoryEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []HistoryEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e HistoryEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
