package glue

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn/weights"
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
	// Metrics are those of the last evaluation (metrics.json's), nil before the first; kept for the same reason.
	Metrics Metrics     `json:"metrics,omitempty"`
	Best    *BestMetric `json:"best_metric"`
	// Config holds the settings that decide the trajectory; a resume must match them.
	Config map[string]string `json:"config"`
}

// checkpointHook, when set (by tests), runs after each part of a checkpoint is written; an error aborts it.
var checkpointHook func(stage string) error

func (t *Trainer) checkpointDir(step int) string {
	return filepath.Join(t.cfg.Out, fmt.Sprintf("%s%d", CheckpointPrefix, step))
}

// SaveCheckpoint writes out/checkpoint-STEP/ with WriteCheckpoint: atomically and durably. A trainable tensor
// that is not finite is an error and nothing is written. Older checkpoints beyond TrainConfig.Keep, and partial
// folders of interrupted writes, are removed afterwards.
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
	optim := t.cfg.Optim
	dir, err := WriteCheckpoint(t.cfg.Out, t.state.Step, []CheckpointPart{
		{Stage: "adapter", Write: func(dir string) error {
			return t.lm.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: t.cfg.BaseModel, TaskType: "SEQ_CLS", Optim: &optim,
				Extra: map[string]string{"task": t.cfg.Task.Name, "global_step": strconv.Itoa(t.state.Step)}})
		}},
		{Stage: "optimizer", Write: func(dir string) error {
			tensors, meta := t.opt.State()
			return weights.WriteSafetensors(filepath.Join(dir, OptimizerFile), tensors, meta)
		}},
		{Stage: "state", Write: func(dir string) error { return writeJSONFile(dir, TrainerStateFile, t.state) }},
	})
	if err != nil {
		return "", err
	}
	t.lastSaved = t.state.Step
	return dir, PruneCheckpoints(t.cfg.Out, t.cfg.Keep, t.cfg.log())
}

// CheckpointPart is one part of a checkpoint: Write puts its files into the checkpoint's folder; Stage names it
// for the test hooks ("adapter", "optimizer", "state").
type CheckpointPart struct {
	Stage string
	Write func(dir string) error
}

// PartialPrefix starts the name of the temporary folder a checkpoint is written to. Only a process killed while
// writing one leaves such a folder behind; RemovePartial deletes them.
const PartialPrefix = ".tmp-" + CheckpointPrefix

// syncDir fsyncs a directory, so that the entries created, renamed or removed in it survive a power cut. It is a
// variable so that tests can record the order of the syncs.
var syncDir = func(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a directory, making the files created or renamed in it (metrics.json) survive a power cut.
func SyncDir(dir string) error { return syncDir(dir) }

// WriteCheckpoint writes out/checkpoint-STEP/ from parts, atomically and durably, in the order databases use:
// every file is written to a temporary folder in out and fsynced there (weights.WriteSafetensors and
// weights.WriteFileAtomic sync each file before renaming it into that folder), the folder is fsynced so that the
// files' names are on disk, then it is renamed to checkpoint-STEP and out is fsynced so that the rename is. A
// crash or a power cut at any point leaves either the previous state or the complete checkpoint under the
// checkpoint name, never a checkpoint with missing or empty files; what it may leave is a temporary folder,
// which RemovePartial deletes. An existing checkpoint-STEP is replaced. Errors name the step.
func WriteCheckpoint(out string, step int, parts []CheckpointPart) (string, error) {
	final := filepath.Join(out, fmt.Sprintf("%s%d", CheckpointPrefix, step))
	tmp, err := os.MkdirTemp(out, PartialPrefix)
	if err != nil {
		return "", fmt.Errorf("checkpoint step %d: %w", step, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	for _, p := range parts {
		if err := p.Write(tmp); err != nil {
			return "", fmt.Errorf("checkpoint step %d: %w", step, err)
		}
		if checkpointHook != nil {
			if err := checkpointHook(p.Stage); err != nil {
				return "", fmt.Errorf("checkpoint step %d: %w", step, err)
			}
		}
		FaultPoint("checkpoint-"+p.Stage, step)
	}
	if err := syncDir(tmp); err != nil {
		return "", fmt.Errorf("checkpoint step %d: sync %s: %w", step, tmp, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("checkpoint step %d: %w", step, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("checkpoint step %d: %w", step, err)
	}
	ok = true
	if err := syncDir(out); err != nil {
		return "", fmt.Errorf("checkpoint step %d: sync %s: %w", step, out, err)
	}
	FaultPoint("checkpoint-renamed", step)
	return final, nil
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

// PruneCheckpoints removes the partial folders of interrupted checkpoint writes (RemovePartial) and the oldest
// checkpoints of out beyond the keep most recent (keep 0 keeps all).
func PruneCheckpoints(out string, keep int, log io.Writer) error {
	if err := RemovePartial(out, log); err != nil {
		return err
	}
	if keep <= 0 {
		return nil
	}
	cps, err := listCheckpoints(out)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for i := 0; i < len(cps)-keep; i++ {
		if err := os.RemoveAll(cps[i].dir); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// writeProbe is the file PrepareOut creates and removes to learn whether an output folder takes writes.
const writeProbe = ".write-test"

// PrepareOut readies a run's output folder: it creates it, checks that files can be written there (so that a
// read-only or otherwise unwritable folder stops a run before it trains, not at its first checkpoint), and
// removes what interrupted writes left there (RemovePartial, named on log).
func PrepareOut(out string, log io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	probe := filepath.Join(out, writeProbe)
	f, err := os.OpenFile(probe, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", out, err)
	}
	f.Close()
	if err := os.Remove(probe); err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	return RemovePartial(out, log)
}

// partialFiles are the name prefixes of what a process killed while writing leaves in an output folder: the
// temporary folder of a checkpoint, and the temporary files weights.WriteFileAtomic renames onto metrics.json and
// history.jsonl.
var partialFiles = []string{PartialPrefix, "." + MetricsFile + ".tmp", "." + HistoryFile + ".tmp"}

// RemovePartial deletes, from out, the temporary folders of checkpoints whose write was interrupted (a kill or a
// power cut while writing: they hold part of an adapter and optimizer state, as large as a whole checkpoint, and
// nothing ever reads them) and the temporary files of interrupted metrics and history writes, and names each on
// log. The trainers call it when they start and after every checkpoint, so a run in out must not be writing
// concurrently.
func RemovePartial(out string, log io.Writer) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		for _, prefix := range partialFiles {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			path := filepath.Join(out, name)
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("checkpoint: removing the partial write %s: %w", path, err)
			}
			what := "partial checkpoint folder"
			if !e.IsDir() {
				what = "partial file"
			}
			fmt.Fprintf(log, "removed %s %s (left by a run stopped while writing it)\n", what, path)
			break
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
	return weights.WriteFileAtomic(filepath.Join(dir, name), append(data, '\n'))
}

// AddLoss counts the loss of a step in both running means.
func (s *TrainerState) AddLoss(v float64) {
	s.LossSum += v
	s.LossSteps++
	s.RunLossSum += v
	s.RunLossSteps++
}

// Check reports a state that cannot belong to a run of total steps of perEpoch batches each, naming the key.
func (s *TrainerState) Check(total, perEpoch int) error {
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
	case !finite(s.LossSum) || !finite(s.RunLossSum):
		return fmt.Errorf("loss_sum %v or run_loss_sum %v is not finite", s.LossSum, s.RunLossSum)
	}
	return nil
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
