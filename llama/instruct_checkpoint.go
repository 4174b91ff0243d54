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
	"github.com/loraplus-go/loraplus/nn/weights"
)

// InstructTaskType is the PEFT task type of instruction-tuning adapters.
const InstructTaskType = "CAUSAL_LM"

func (t *InstructTrainer) checkpointDir(step int) string {
	return filepath.Join(t.cfg.Out, fmt.Sprintf("%s%d", glue.CheckpointPrefix, step))
}

// SaveCheckpoint writes out/checkpoint-STEP/ with glue.WriteCheckpoint (atomically and durably), with the files
// of glue's checkpoints: the PEFT adapter (task type CAUSAL_LM), glue.OptimizerFile and glue.TrainerStateFile. A
// trainable tensor that is not finite is an error and nothing is written. Older checkpoints beyond Keep, and
// partial folders of interrupted writes, are removed afterwards.
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
	optim := t.cfg.Optim
	dir, err := glue.WriteCheckpoint(t.cfg.Out, t.state.Step, []glue.CheckpointPart{
		{Stage: "adapter", Write: func(dir string) error {
			return t.lm.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: t.cfg.BaseModel, TaskType: InstructTaskType, Optim: &optim,
				Extra: map[string]string{"task": "instruct", "data": t.cfg.DataName, "global_step": strconv.Itoa(t.state.Step)}})
		}},
		{Stage: "optimizer", Write: func(dir string) error {
			tensors, meta := t.opt.State()
			return weights.WriteSafetensors(filepath.Join(dir, glue.OptimizerFile), tensors, meta)
		}},
		{Stage: "state", Write: func(dir string) error { return writeJSON(dir, glue.TrainerStateFile, t.state) }},
	})
	if err != nil {
		return "", fmt.Errorf("llama: %w", err)
	}
	t.lastSaved = t.state.Step
	if err := glue.PruneCheckpoints(t.cfg.Out, t.cfg.Keep, t.cfg.log()); err != nil {
		return "", fmt.Errorf("llama: %w", err)
	}
	return dir, nil
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
	if err := s.Check(t.total, t.perEpoch); err != nil {
		return fmt.Errorf("llama: resume %s: %w", filepath.Join(dir, glue.TrainerStateFile), err)
	}
	if err := t.pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("llama: resume %s: rng_state: %w", dir, err)
	}
	if err := t.lm.LoadTrainable(filepath.Join(dir, loraplus.AdapterWeightsFile)); err != nil {
		return fmt.Errorf("llama: resume: %w", err)
	}
	path := filepath.Join(dir, glue.OptimizerFile)
	tensors, meta, err := weights.ReadSafetensors(path)
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
	return weights.WriteFileAtomic(filepath.Join(dir, name), append(js, '\n'))
}
