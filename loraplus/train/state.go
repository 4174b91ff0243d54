package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Metrics maps metric names to values, e.g. {"acc": 0.85, "f1": 0.8} or, with several evaluation sets,
// {"mnli-m/acc": 0.8, "mnli-mm/acc": 0.79}. It marshals to a JSON object with sorted keys.
type Metrics map[string]float64

// String formats the metrics as "name=value" pairs in key order, for logs.
func (m Metrics) String() string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%.4f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// WithPrefix returns a copy whose keys are "prefix/key".
func (m Metrics) WithPrefix(prefix string) Metrics {
	out := make(Metrics, len(m))
	for k, v := range m {
		out[prefix+"/"+k] = v
	}
	return out
}

// BestMetric is the best value of the tracked metric so far and the step it was reached at.
type BestMetric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Step  int     `json:"step"`
}

// State is where a run stands; with the adapter and optimizer files it is enough to continue a run so that it
// ends as an uninterrupted one would. It is a checkpoint's trainer_state.json.
type State struct {
	Step          int     `json:"global_step"` // optimizer steps taken
	Epoch         int     `json:"epoch"`       // the epoch the next batch belongs to (from 0)
	EpochStep     int     `json:"epoch_step"`  // batches of that epoch already taken
	TotalSteps    int     `json:"total_steps"` // steps of the whole run
	StepsPerEpoch int     `json:"steps_per_epoch"`
	RNG           []byte  `json:"rng_state"` // the shuffling PCG (math/rand/v2 MarshalBinary) at the start of Epoch
	LastLoss      float64 `json:"last_loss"`
	// LossSum and LossSteps add up the step losses since the last evaluation (history.jsonl's train_loss),
	// RunLossSum and RunLossSteps those of every step so far (metrics.json's train_loss). They live here, not in
	// the process, so that a run interrupted and resumed reports the same means as an uninterrupted one.
	LossSum      float64 `json:"loss_sum"`
	LossSteps    int     `json:"loss_steps"`
	RunLossSum   float64 `json:"run_loss_sum"`
	RunLossSteps int     `json:"run_loss_steps"`
	// LogLossSum and LogLossSteps add up the step losses since the last log.jsonl line (LogEntry.Loss); absent
	// from the checkpoints of runs written before log.jsonl existed, which resume with them 0.
	LogLossSum   float64 `json:"log_loss_sum"`
	LogLossSteps int     `json:"log_loss_steps"`
	// Metrics are those of the last evaluation (metrics.json's), nil before the first; kept for the same reason.
	Metrics Metrics     `json:"metrics,omitempty"`
	Best    *BestMetric `json:"best_metric"`
	// Config holds the settings that decide the trajectory; a resume must match them.
	Config map[string]string `json:"config"`
}

// ReadState reads dir/trainer_state.json.
func ReadState(dir string) (State, error) {
	path := filepath.Join(dir, StateFile)
	var s State
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("train: resume: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("train: resume: %s: %w", path, err)
	}
	return s, nil
}

// AddLoss counts the loss of a step in both running means.
func (s *State) AddLoss(v float64) {
	s.LossSum += v
	s.LossSteps++
	s.RunLossSum += v
	s.RunLossSteps++
	s.LogLossSum += v
	s.LogLossSteps++
}

// Check reports a state that cannot belong to a run of total steps of perEpoch batches each, naming the key.
func (s *State) Check(total, perEpoch int) error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case s.Step < 0 || s.Step > total:
		return fmt.Errorf("global_step %d outside [0, %d]", s.Step, total)
	case s.EpochStep < 0 || s.EpochStep >= perEpoch:
		return fmt.Errorf("epoch_step %d outside [0, %d)", s.EpochStep, perEpoch)
	case s.Epoch*perEpoch+s.EpochStep != s.Step:
		return fmt.Errorf("epoch %d, epoch_step %d do not add up to global_step %d", s.Epoch, s.EpochStep, s.Step)
	case s.RunLossSteps < 0 || s.RunLossSteps > s.Step:
		return fmt.Errorf("run_loss_steps %d outside [0, global_step %d]", s.RunLossSteps, s.Step)
	case s.LossSteps < 0 || s.LossSteps > s.RunLossSteps:
		return fmt.Errorf("loss_steps %d outside [0, run_loss_steps %d]", s.LossSteps, s.RunLossSteps)
	case s.LogLossSteps < 0 || s.LogLossSteps > s.RunLossSteps:
		return fmt.Errorf("log_loss_steps %d outside [0, run_loss_steps %d]", s.LogLossSteps, s.RunLossSteps)
	case !finite(s.LossSum) || !finite(s.RunLossSum) || !finite(s.LogLossSum):
		return fmt.Errorf("loss_sum %v, run_loss_sum %v or log_loss_sum %v is not finite", s.LossSum, s.RunLossSum, s.LogLossSum)
	}
	return nil
}

// Advance moves the position one optimizer step on, in an epoch of epochBatches batches. At the end of an epoch
// it starts the next one, records the shuffling RNG's state for it and reports true: the caller draws a new order.
func (s *State) Advance(epochBatches int, pcg *rand.PCG) (epochDone bool) {
	s.Step++
	s.EpochStep++
	if s.EpochStep < epochBatches {
		return false
	}
	s.Epoch++
	s.EpochStep = 0
	s.RNG, _ = pcg.MarshalBinary()
	return true
}

// diffFingerprint names the first setting (in key order) that differs between a checkpoint and the current run.
func diffFingerprint(saved, now map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(now)) {
		if saved[k] != now[k] {
			return fmt.Errorf("setting %q was %q in the checkpoint, now %q", k, saved[k], now[k])
		}
	}
	return nil
}
