package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/loraplus-go/loraplus/nn/weights"
)

// LogEntry is one line of log.jsonl (LogFile), written every Config.LogEvery optimizer steps, for plotting the
// training curve.
type LogEntry struct {
	Step  int     `json:"step"`
	Epoch float64 `json:"epoch"` // step / steps per epoch
	// Loss is the mean step loss over the steps since the previous line (LogEvery steps, or those since the start
	// of the run for the first line). It is kept in the checkpoints, so a resumed run logs what a straight one does.
	Loss float64 `json:"loss"`
	// LR is the learning rate each LoRA+ group of the optimizer applied at this step, by group name ("A", "B",
	// "B_no_decay", "embedding"; only the groups the model has).
	LR map[string]float64 `json:"learning_rate"`
	// GradNorm is the L2 norm of the trainable tensors' gradients of this step before clipping; nil (null) when
	// it is not finite, which happens only without clipping (Config.ClipNorm 0), since clipping stops the run.
	GradNorm *float64 `json:"grad_norm"`
	// ExamplesSec and TokensSec are the training throughput since the previous line (tokens: input tokens without
	// padding; 0 where the task does not count them); Seconds is the wall time since the run (or the resume)
	// started. They are the only fields that differ between two runs of the same training.
	ExamplesSec float64 `json:"examples_per_second"`
	TokensSec   float64 `json:"tokens_per_second"`
	Seconds     float64 `json:"seconds"`
}

// ReadLog reads a log.jsonl file; a bad line is an error naming it.
func ReadLog(path string) ([]LogEntry, error) {
	return readJSONL[LogEntry](path)
}

// readJSONL reads a file of one JSON object a line, skipping blank lines; a bad line is an error naming it.
func readJSONL[T any](path string) ([]T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e T
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// truncateJSONL starts out/name (a file of one JSON object with a "step" a line) afresh, or, after a resume at
// step, keeps only the lines up to that step, so that the file reads as the history of an uninterrupted run.
// With nothing to keep it removes the file rather than leaving an empty one: the first append creates it. The
// file is replaced atomically. Errors start with "train: what: ".
func truncateJSONL(out, name, what string, step int) error {
	path := filepath.Join(out, name)
	var keep []byte
	if step > 0 {
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("train: %s: %w", what, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var e struct {
				Step int `json:"step"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Step <= step {
				keep = append(append(keep, sc.Bytes()...), '\n')
			}
		}
	}
	if len(keep) == 0 {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("train: %s: %w", what, err)
		}
		return nil
	}
	if err := weights.WriteFileAtomic(path, keep); err != nil {
		return fmt.Errorf("train: %s: %w", what, err)
	}
	return nil
}

// appendJSONL adds v to out/name as one line. Errors start with "train: what: ".
func appendJSONL(out, name, what string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("train: %s: %w", what, err)
	}
	f, err := os.OpenFile(filepath.Join(out, name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("train: %s: %w", what, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("train: %s: %w", what, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("train: %s: %w", what, err)
	}
	return nil
}

// logWindow counts the throughput since the last log line; it lives in the process (wall times are not part of
// the run's history).
type logWindow struct {
	start            time.Time
	examples, tokens int
}

// logStep appends the log line of the step just taken (its gradient norm before clipping is norm) and starts a
// new window of losses and throughput.
func (s *Session) logStep(norm float64) error {
	step := s.state.Step
	el := max(time.Since(s.win.start).Seconds(), 1e-9)
	e := LogEntry{Step: step, Epoch: float64(step) / float64(s.perEpoch), LR: map[string]float64{},
		ExamplesSec: float64(s.win.examples) / el, TokensSec: float64(s.win.tokens) / el,
		Seconds: time.Since(s.start).Seconds()}
	if finite(norm) {
		e.GradNorm = &norm
	}
	lrs := s.opt.AppliedLRs()
	for i, g := range s.opt.Groups() {
		e.LR[g.Name] = lrs[i]
	}
	if s.state.LogLossSteps > 0 {
		e.Loss = s.state.LogLossSum / float64(s.state.LogLossSteps)
	}
	s.state.LogLossSum, s.state.LogLossSteps = 0, 0
	s.win = logWindow{start: time.Now()}
	if err := appendJSONL(s.cfg.Out, LogFile, "log", e); err != nil {
		return err
	}
	return s.tb.Scalars(step, tbTrainScalars(e))
}

// tbTrainScalars are the TensorBoard scalars of a log line, named as Hugging Face Trainer names them (train/loss,
// train/grad_norm, train/epoch) with a learning rate per LoRA+ group (train/learning_rate_A, _B, ...).
func tbTrainScalars(e LogEntry) map[string]float64 {
	m := map[string]float64{"train/loss": e.Loss, "train/epoch": e.Epoch}
	if e.GradNorm != nil {
		m["train/grad_norm"] = *e.GradNorm
	}
	for g, lr := range e.LR {
		m["train/learning_rate_"+g] = lr
	}
	return m
}
