package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loraplus-go/loraplus/loraplus"
)

// hfState builds the Hugging Face keys of the checkpoint of the current step from the run's settings and from
// log.jsonl and history.jsonl on disk, which hold the run's history (a resume has trimmed them to its step), so
// that the session keeps no per-step history in memory.
func (s *Session) hfState() (HFState, error) {
	step := s.state.Step
	h := HFState{MaxSteps: s.total, LoggingSteps: s.cfg.LogEvery, EvalSteps: s.cfg.EvalEvery, SaveSteps: s.cfg.SaveEvery,
		TrainBatchSize: s.cfg.BatchSize, NumTrainEpochs: (s.total + s.perEpoch - 1) / s.perEpoch, LogHistory: []map[string]any{}}
	if b := s.state.Best; b != nil && (b.Step == step || (s.cfg.SaveEvery > 0 && b.Step%s.cfg.SaveEvery == 0)) {
		dir := CheckpointDir(s.cfg.Out, b.Step)
		h.BestModelCheckpoint = &dir
	}
	var logs []LogEntry
	var evals []HistoryEntry
	var err error
	if s.cfg.LogEvery > 0 {
		if logs, err = ReadLog(filepath.Join(s.cfg.Out, LogFile)); err != nil && !os.IsNotExist(err) {
			return h, fmt.Errorf("train: log_history: %w", err)
		}
	}
	if _, ok := s.task.(Evaluator); ok {
		if evals, err = ReadHistory(filepath.Join(s.cfg.Out, HistoryFile)); err != nil && !os.IsNotExist(err) {
			return h, fmt.Errorf("train: log_history: %w", err)
		}
	}
	for len(logs) > 0 || len(evals) > 0 {
		if len(logs) > 0 && (len(evals) == 0 || logs[0].Step <= evals[0].Step) {
			if e := logs[0]; e.Step <= step {
				h.LogHistory = append(h.LogHistory, hfTrainEntry(e))
			}
			logs = logs[1:]
			continue
		}
		if e := evals[0]; e.Step <= step {
			m := map[string]any{"epoch": hfFloat(e.Epoch), "step": e.Step}
			for k, v := range e.Metrics {
				m[hfEvalKey(k)] = v
			}
			h.LogHistory = append(h.LogHistory, m)
		}
		evals = evals[1:]
	}
	return h, nil
}

// hfTrainEntry is a log.jsonl line as a Hugging Face training log entry; its learning_rate is group A's (the
// first group of a LoRA+ optimizer made by Hugging Face's create_loraplus_optimizer), or, in a model without A
// tensors, the smallest group's rate.
func hfTrainEntry(e LogEntry) map[string]any {
	lr, ok := e.LR[loraplus.GroupA]
	if !ok {
		for _, v := range e.LR {
			if !ok || v < lr {
				lr, ok = v, true
			}
		}
	}
	m := map[string]any{"loss": e.Loss, "learning_rate": lr, "epoch": hfFloat(e.Epoch), "step": e.Step, "grad_norm": nil}
	if e.GradNorm != nil {
		m["grad_norm"] = *e.GradNorm
	}
	return m
}

// hfEvalKey is a metric's key in Trainer's log_history, "eval_" + name; a name that already starts with "eval_"
// (GLUE's, named as run_glue.py names them) is kept.
func hfEvalKey(name string) string {
	if strings.HasPrefix(name, "eval_") {
		return name
	}
	return "eval_" + name
}

// tbEvalTag is a metric's TensorBoard tag, "eval/" + name without a leading "eval_", as Trainer's TensorBoard
// callback names it ("eval_accuracy" → "eval/accuracy").
func tbEvalTag(name string) string {
	return "eval/" + strings.TrimPrefix(name, "eval_")
}
