package train

import (
	"bytes"
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
// ends as an uninterrupted one would. It is a checkpoint's trainer_state.json, which also holds the keys of Hugging
// Face Trainer's trainer_state.json (its TrainerState) for the tools that read those: the float "epoch",
// "log_history", "best_metric" (a number) and "best_global_step" are written by MarshalJSON from the fields
// below (see HFState), the others are fields.
type State struct {
	Step int `json:"global_step"` // optimizer steps taken
	// Epoch is the epoch the next batch belongs to (from 0). The file holds Hugging Face's float epoch,
	// global_step / steps_per_epoch, whose integer part it is; files written before held this integer.
	Epoch         int     `json:"epoch"`
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
	Metrics Metrics `json:"metrics,omitempty"`
	// Best is the best tracked metric so far. Files written before the Hugging Face keys held it under
	// "best_metric", where Hugging Face keeps the value alone; they still load.
	Best *BestMetric `json:"best"`
	// Config holds the settings that decide the trajectory; a resume must match them.
	Config map[string]string `json:"config"`

	HFState
}

// HFState holds the keys of Hugging Face Trainer's trainer_state.json that State's own fields do not give. A
// session fills them when it writes a checkpoint; a resume does not read them (log.jsonl and history.jsonl, not
// LogHistory, are the run's record), and files written before them still load.
type HFState struct {
	// LogHistory is the run's log as Hugging Face's Trainer keeps it, in step order: a training entry per
	// log.jsonl line {"loss", "grad_norm", "learning_rate" (group A's), "epoch", "step"} and an evaluation entry
	// per history.jsonl line {"eval_<metric>", ..., "epoch", "step"}, the training entry first at a step with both.
	LogHistory     []map[string]any `json:"log_history"`
	MaxSteps       int              `json:"max_steps"`
	LoggingSteps   int              `json:"logging_steps"` // Config.LogEvery
	EvalSteps      int              `json:"eval_steps"`    // Config.EvalEvery
	SaveSteps      int              `json:"save_steps"`    // Config.SaveEvery
	TrainBatchSize int              `json:"train_batch_size"`
	NumTrainEpochs int              `json:"num_train_epochs"`
	// BestModelCheckpoint is, as in Trainer, the checkpoint folder (under Config.Out as given) of the best
	// metric's step when the run checkpoints at that step (it is this checkpoint's or a multiple of
	// Config.SaveEvery; Config.Keep may have pruned it since), else nil (null). It does not depend on which
	// folders exist, so an interrupted and resumed run writes the same.
	BestModelCheckpoint *string `json:"best_model_checkpoint"`
}

// stateFields is State without its JSON methods.
type stateFields State

// MarshalJSON writes the state with Hugging Face's float epoch, best_metric and best_global_step.
func (s State) MarshalJSON() ([]byte, error) {
	out := struct {
		stateFields
		Epoch      hfFloat  `json:"epoch"`
		BestMetric *float64 `json:"best_metric"`
		BestStep   *int     `json:"best_global_step"`
	}{stateFields: stateFields(s), Epoch: hfFloat(s.Epoch)}
	if s.StepsPerEpoch > 0 {
		out.Epoch = hfFloat(float64(s.Step) / float64(s.StepsPerEpoch))
	}
	if s.Best != nil {
		out.BestMetric, out.BestStep = &s.Best.Value, &s.Best.Step
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes and the files written before the Hugging Face keys (an integer
// epoch, the BestMetric object under "best_metric").
func (s *State) UnmarshalJSON(data []byte) error {
	in := struct {
		*stateFields
		Epoch      float64         `json:"epoch"`
		BestMetric json.RawMessage `json:"best_metric"`
	}{stateFields: (*stateFields)(s)}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if in.Epoch < 0 || in.Epoch != in.Epoch || in.Epoch > math.MaxInt32 {
		return fmt.Errorf("epoch %v is not a count of epochs", in.Epoch)
	}
	s.Epoch = int(math.Floor(in.Epoch))
	if b := bytes.TrimSpace(in.BestMetric); s.Best == nil && len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &s.Best); err != nil {
			return fmt.Errorf("best_metric: %w", err)
		}
	}
	return nil
}

// hfFloat is a float that JSON always shows as one ("1.0", not "1"), as Python writes Hugging Face's epochs.
type hfFloat float64

func (f hfFloat) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(float64(f))
	if err == nil && !bytes.ContainsAny(b, ".eE") {
		b = append(b, ".0"...)
	}
	return b, err
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
