package glue

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// ReadTrainerState reads dir/trainer_state.json.
func ReadTrainerState(dir string) (TrainerState, error) {
	path := filepath.Join(dir, TrainerStateFile)
	var s TrainerState
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("resume: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("resume: %s: %w", path, err)
	}
	return s, nil
}

// restore loads a checkpoint into the trainer: it checks that the run's settings match, then loads the adapter
// and head tensors, the optimizer state and the shuffling RNG.
func (t *Trainer) restore(dir string) error {
	s, err := ReadTrainerState(dir)
	if err != nil {
		return err
	}
	if err := diffFingerprint(s.Config, t.state.Config); err != nil {
		return fmt.Errorf("resume %s: %w", dir, err)
	}
	if err := s.Check(t.total, t.perEpoch); err != nil {
		return fmt.Errorf("resume %s: %w", filepath.Join(dir, TrainerStateFile), err)
	}
	if err := t.pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("resume %s: rng_state: %w", dir, err)
	}
	if err := t.lm.LoadTrainable(filepath.Join(dir, loraplus.AdapterWeightsFile)); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	tensors, meta, err := weights.ReadSafetensors(filepath.Join(dir, OptimizerFile))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	defer func() {
		for _, x := range tensors {
			x.MustDrop()
		}
	}()
	if err := t.opt.LoadState(tensors, meta); err != nil {
		return fmt.Errorf("resume %s: %w", filepath.Join(dir, OptimizerFile), err)
	}
	t.state = s
	t.order = nil
	return nil
}
