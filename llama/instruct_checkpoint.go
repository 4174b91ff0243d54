package llama

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// InstructTaskType is the PEFT task type of instruction-tuning adapters.
const InstructTaskType = "CAUSAL_LM"

func (t *InstructTrainer) checkpointDir(step int) string {
	return filepath.Join(t.cfg.Out, fmt.Sprintf("%s%d", glue.CheckpointPrefix, step))
}

// SaveCheckpoint writes out/checkpoint-STEP/ atomically, with the files of glue's checkpoints: the PEFT adapter
// (task type CAUSAL_LM), glue.OptimizerFile and glue.TrainerStateFile. A trainable tensor that is not finite
// is an error and nothing is written. Older checkpoints beyond Keep are removed afterwards.
func (t *InstructTrainer) SaveCheckpoint() (string, error) {
	final := t.checkpointDir(t.state.Step)
	if t.lastSaved == t.state.Step {
		if _, err := os.Stat(final); err == nil {
			return final, nil
		}
	}
	for _, p := range t.lm.Params {
		a := p.Tensor.MustDetach(false).MustAbs(true).MustMax(true)
		v := a.Float64Values(true)[0]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("llama: checkpoint step %d: tensor %q is not finite; not saving it", t.state.Step, p.Name)
		}
	}
	tmp, err := os.MkdirTemp(t.cfg.Out, ".tmp-"+glue.CheckpointPrefix)
	if err != nil {
		return "", fmt.Errorf("llama: checkpoint: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	optim := t.cfg.Optim
	err = t.lm.SaveAdapter(tmp, loraplus.AdapterOptions{BaseModel: t.cfg.BaseModel, TaskType: InstructTaskType, Optim: &optim,
		Extra: map[string]string{"task": "instruct", "data": t.cfg.DataName, "global_step": strconv.Itoa(t.state.Step)}})
	if err == nil {
		tensors, meta := t.opt.State()
		err = nn.WriteSafetensors(filepath.Join(tmp, glue.OptimizerFile), tensors, meta)
	}
	if err == nil {
		err = writeJSON(tmp, glue.TrainerStateFile, t.state)
	}
	if err != nil {
		return "", fmt.Errorf("llama: checkpoint step %d: %w", t.state.Step, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("llama: checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("llama: checkpoint: %w", err)
	}
	ok = true
	t.lastSaved = t.state.Step
	return final, t.prune()
}

// checkpoints returns the checkpoint directories of out, oldest step first.
func checkpoints(out string) []string {
	entries, _ := os.ReadDir(out)
	type cp struct {
		step int
		dir  string
	}
	var cps []cp
	for _, e := range entries {
		step, err := strconv.Atoi(strings.TrimPrefix(e.Name(), glue.CheckpointPrefix))
		if e.IsDir() && strings.HasPrefix(e.Name(), glue.CheckpointPrefix) && err == nil && step >= 0 {
			cps = append(cps, cp{step, filepath.Join(out, e.Name())})
		}
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].step < cps[j].step })
	dirs := make([]string, len(cps))
	for i, c := range cps {
		dirs[i] = c.dir
	}
	return dirs
}

func (t *InstructTrainer) prune() error {
	if t.cfg.Keep <= 0 {
		return nil
	}
	dirs := checkpoints(t.cfg.Out)
	for i := 0; i < len(dirs)-t.cfg.Keep; i++ {
		if err := os.RemoveAll(dirs[i]); err != nil {
			return fmt.Errorf("llama: checkpoint: %w", err)
		}
	}
	return nil
}

func (t *InstructTrainer) lastCheckpointName() string {
	dirs := checkpoints(t.cfg.Out)
	if len(dirs) == 0 {
		return "none"
	}
	return dirs[len(dirs)-1]
}

// restore loads a checkpoint: it checks that the run's settings match, then loads the adapters, the optimizer
// state and the shuffling RNG.
func (t *InstructTrainer) restore(dir string) error {
	s, err := glue.ReadTrainerState(dir)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(t.state.Config))
	for k := range t.state.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s.Config[k] != t.state.Config[k] {
			return fmt.Errorf("llama: resume %s: setting %q was %q in the checkpoint, now %q", dir, k, s.Config[k], t.state.Config[k])
		}
	}
	switch {
	case s.Step < 0 || s.Step > t.total:
		return fmt.Errorf("llama: resume %s: global_step %d outside [0, %d]", dir, s.Step, t.total)
	case s.EpochStep < 0 || s.EpochStep >= t.perEpoch:
		return fmt.Errorf("llama: resume %s: epoch_step %d outside [0, %d)", dir, s.EpochStep, t.perEpoch)
	case s.Epoch*t.perEpoch+s.EpochStep != s.Step:
		return fmt.Errorf("llama: resume %s: epoch %d, epoch_step %d do not add up to global_step %d", dir, s.Epoch, s.EpochStep, s.Step)
	}
	if err := t.pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("llama: resume %s: rng_state: %w", dir, err)
	}
	if err := t.lm.LoadTrainable(filepath.Join(dir, loraplus.AdapterWeightsFile)); err != nil {
		return fmt.Errorf("llama: resume: %w", err)
	}
	path := filepath.Join(dir, glue.OptimizerFile)
	tensors, meta, err := nn.ReadSafetensors(path)
	if err != nil {
		return fmt.Errorf("llama: resume: %w", err)
	}
	defer func() {
		for _, x := range tensors {
			x.MustDrop()
		}
	}()
	if err := t.opt.LoadState(tensors, meta); err != nil {
		return fmt.Errorf("llama: resume %s: %w", path, err)
	}
	t.state = s
	t.order = nil
	return nil
}

// writeJSON writes v as indented JSON to dir/name atomically.
func writeJSON(dir, name string, v any) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("llama: %s: %w", name, err)
	}
	return nn.WriteFileAtomic(filepath.Join(dir, name), append(js, '\n'))
}
