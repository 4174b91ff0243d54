package glue

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// Files of a checkpoint directory (out/checkpoint-STEP/), besides the PEFT adapter files written by
// loraplus.Model.SaveAdapter (adapter_config.json, adapter_model.safetensors, loraplus_config.json).
const (
	// OptimizerFile holds the AdamW moments, with the step counts and groups in its metadata.
	OptimizerFile = "optimizer.safetensors"
	// TrainerStateFile holds the TrainerState as JSON.
	TrainerStateFile = "trainer_state.json"
	// CheckpointPrefix starts the name of every checkpoint directory.
	CheckpointPrefix = "checkpoint-"
)

// BestMetric is the best value of the tracked metric so far and the step it was reached at.
type BestMetric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Step  int     `json:"step"`
}

// TrainerState is where a run stands; with the adapter and optimizer files it is enough to continue a run so
// that it ends as an uninterrupted one would.
type TrainerState struct {
	Step          int         `json:"global_step"` // optimizer steps taken
	Epoch         int         `json:"epoch"`       // the epoch the next batch belongs to (from 0)
	EpochStep     int         `json:"epoch_step"`  // batches of that epoch already taken
	TotalSteps    int         `json:"total_steps"` // steps of the whole run
	StepsPerEpoch int         `json:"steps_per_epoch"`
	RNG           []byte      `json:"rng_state"` // the shuffling PCG (math/rand/v2 MarshalBinary) at the start of Epoch
	LastLoss      float64     `json:"last_loss"`
	Best          *BestMetric `json:"best_metric"`
	// Config holds the settings that decide the trajectory; a resume must match them.
	Config map[string]string `json:"config"`
}

// checkpointHook, when set (by tests), runs after each file of a checkpoint is written; an error aborts it.
var checkpointHook func(stage string) error

func (t *Trainer) checkpointDir(step int) string {
	return filepath.Join(t.cfg.Out, fmt.Sprintf("%s%d", CheckpointPrefix, step))
}

// SaveCheckpoint writes out/checkpoint-STEP/ atomically: the files go to a temporary directory in out that is
// renamed into place once complete, so a crash never leaves a partial checkpoint under a checkpoint name.
// A trainable tensor that is not finite is an error and nothing is written. Older checkpoints beyond
// TrainConfig.Keep are removed afterwards.
func (t *Trainer) SaveCheckpoint() (string, error) {
	final := t.checkpointDir(t.state.Step)
	if t.lastSaved == t.state.Step {
		if _, err := os.Stat(final); err == nil {
			return final, nil
		}
	}
	if err := t.checkFinite(); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(t.cfg.Out, ".tmp-"+CheckpointPrefix)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := t.writeCheckpointFiles(tmp); err != nil {
		return "", fmt.Errorf("checkpoint step %d: %w", t.state.Step, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	ok = true
	t.lastSaved = t.state.Step
	return final, t.prune()
}

func (t *Trainer) writeCheckpointFiles(dir string) error {
	hook := func(stage string) error {
		if checkpointHook != nil {
			return checkpointHook(stage)
		}
		return nil
	}
	optim := t.cfg.Optim
	err := t.lm.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: t.cfg.BaseModel, TaskType: "SEQ_CLS", Optim: &optim,
		Extra: map[string]string{"task": t.cfg.Task.Name, "global_step": strconv.Itoa(t.state.Step)}})
	if err != nil {
		return err
	}
	if err := hook("adapter"); err != nil {
		return err
	}
	tensors, meta := t.opt.State()
	if err := nn.WriteSafetensors(filepath.Join(dir, OptimizerFile), tensors, meta); err != nil {
		return err
	}
	if err := hook("optimizer"); err != nil {
		return err
	}
	if err := writeJSONFile(dir, TrainerStateFile, t.state); err != nil {
		return err
	}
	return hook("state")
}

// checkFinite returns an error naming the first trainable tensor with a NaN or an infinity.
func (t *Trainer) checkFinite() error {
	for _, p := range t.lm.Params {
		s := p.Tensor.MustDetach(false)
		a := s.MustAbs(true)
		m := a.MustMax(true)
		v := m.Float64Values(true)[0]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("checkpoint step %d: tensor %q is not finite; not saving it", t.state.Step, p.Name)
		}
	}
	return nil
}

type checkpointEntry struct {
	step int
	dir  string
}

// listCheckpoints returns the checkpoint directories of out, oldest step first.
func listCheckpoints(out string) ([]checkpointEntry, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	var cps []checkpointEntry
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, CheckpointPrefix) {
			continue
		}
		step, err := strconv.Atoi(strings.TrimPrefix(name, CheckpointPrefix))
		if err != nil || step < 0 {
			continue
		}
		cps = append(cps, checkpointEntry{step, filepath.Join(out, name)})
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].step < cps[j].step })
	return cps, nil
}

// prune removes the oldest checkpoints beyond Keep.
func (t *Trainer) prune() error {
	if t.cfg.Keep <= 0 {
		return nil
	}
	cps, err := listCheckpoints(t.cfg.Out)
	if err != nil {
		return err
	}
	for i := 0; i < len(cps)-t.cfg.Keep; i++ {
		if err := os.RemoveAll(cps[i].dir); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// ResolveCheckpoint turns a -resume value into a checkpoint directory: "latest" is the newest checkpoint in
// out; anything else is a directory that must hold a trainer state.
func ResolveCheckpoint(out, resume string) (string, error) {
	dir := resume
	if resume == "latest" {
		cps, err := listCheckpoints(out)
		if err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("resume: %w", err)
		}
		if len(cps) == 0 {
			return "", fmt.Errorf("resume latest: no %sSTEP directory in %s", CheckpointPrefix, out)
		}
		dir = cps[len(cps)-1].dir
	}
	if _, err := os.Stat(filepath.Join(dir, TrainerStateFile)); err != nil {
		return "", fmt.Errorf("resume: %s is not a checkpoint (no %s)", dir, TrainerStateFile)
	}
	return dir, nil
}

// writeJSONFile writes v as indented JSON to dir/name atomically.
func writeJSONFile(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nn.WriteFileAtomic(filepath.Join(dir, name), append(data, '\n'))
}

// Advance moves the position one optimizer step on, in an epoch of epochBatches batches. At the end of an epoch
// it starts the next one, records the shuffling RNG's state for it and reports true: the caller draws a new order.
func (s *TrainerState) Advance(epochBatches int, pcg *rand.PCG) (epochDone bool) {
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
