package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/loraplus-go/loraplus/nn/weights"
)

// HistoryEntry is one evaluation of a run, for plotting metrics over steps.
type HistoryEntry struct {
	Step      int     `json:"step"`
	Epoch     float64 `json:"epoch"`
	TrainLoss float64 `json:"train_loss"` // mean training loss since the previous entry
	LRA       float64 `json:"lr_A"`
	LRB       float64 `json:"lr_B"`
	Metrics   Metrics `json:"metrics"`
	Seconds   float64 `json:"seconds"` // wall time since the run (or the resume) started
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

// openHistory starts out/history.jsonl afresh, or, after a resume at step, keeps only the entries up to that
// step. With nothing to keep it removes the file rather than leaving an empty one: the first evaluation creates
// it.
func openHistory(out string, step int) error {
	path := filepath.Join(out, HistoryFile)
	var keep []byte
	if step > 0 {
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("train: history: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var e HistoryEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Step <= step {
				keep = append(append(keep, sc.Bytes()...), '\n')
			}
		}
	}
	if len(keep) == 0 {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("train: history: %w", err)
		}
		return nil
	}
	return weights.WriteFileAtomic(path, keep)
}

// appendHistory adds e to out/history.jsonl as one line.
func appendHistory(out string, e HistoryEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("train: history: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(out, HistoryFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("train: history: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("train: history: %w", err)
	}
	return f.Close()
}
