package train

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/loraplus-go/loraplus/nn/weights"
)

// Files of an output folder and of a checkpoint folder (out/checkpoint-STEP/), besides the PEFT adapter files
// written by loraplus.Model.SaveAdapter (adapter_config.json, adapter_model.safetensors, loraplus_config.json).
const (
	// OptimizerFile holds the AdamW moments, with the step counts and groups in its metadata.
	OptimizerFile = "optimizer.safetensors"
	// StateFile holds the State as JSON.
	StateFile = "trainer_state.json"
	// CheckpointPrefix starts the name of every checkpoint folder.
	CheckpointPrefix = "checkpoint-"
	// PartialPrefix starts the name of the temporary folder a checkpoint is written to. Only a process killed
	// while writing one leaves such a folder behind; RemovePartial deletes them.
	PartialPrefix = ".tmp-" + CheckpointPrefix
	// MetricsFile holds the Result of a finished run as JSON.
	MetricsFile = "metrics.json"
	// HistoryFile holds one HistoryEntry per evaluation, one JSON object a line.
	HistoryFile = "history.jsonl"
	// LogFile holds one LogEntry every Config.LogEvery steps, one JSON object a line.
	LogFile = "log.jsonl"
)

// checkpointHook, when set (by tests), runs after each part of a checkpoint is written; an error aborts it.
var checkpointHook func(stage string) error

// Part is one part of a checkpoint: Write puts its files into the checkpoint's folder; Stage names it for the
// fault points ("adapter", "optimizer", "state").
type Part struct {
	Stage string
	Write func(dir string) error
}

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

// CheckpointDir is the folder of the checkpoint of step in out.
func CheckpointDir(out string, step int) string {
	return filepath.Join(out, CheckpointPrefix+strconv.Itoa(step))
}

// WriteCheckpoint writes out/checkpoint-STEP/ from parts, atomically and durably, in the order databases use:
// every file is written to a temporary folder in out and fsynced there (weights.WriteSafetensors and
// weights.WriteFileAtomic sync each file before renaming it into that folder), the folder is fsynced so that the
// files' names are on disk, then it is renamed to checkpoint-STEP and out is fsynced so that the rename is. A
// crash or a power cut at any point leaves either the previous state or the complete checkpoint under the
// checkpoint name, never a checkpoint with missing or empty files; what it may leave is a temporary folder,
// which RemovePartial deletes. An existing checkpoint-STEP is replaced. Errors name the step.
func WriteCheckpoint(out string, step int, parts []Part) (string, error) {
	fail := func(err error) (string, error) { return "", fmt.Errorf("train: checkpoint step %d: %w", step, err) }
	final := CheckpointDir(out, step)
	tmp, err := os.MkdirTemp(out, PartialPrefix)
	if err != nil {
		return fail(err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	for _, p := range parts {
		if err := p.Write(tmp); err != nil {
			return fail(err)
		}
		if checkpointHook != nil {
			if err := checkpointHook(p.Stage); err != nil {
				return fail(err)
			}
		}
		FaultPoint("checkpoint-"+p.Stage, step)
	}
	if err := syncDir(tmp); err != nil {
		return fail(fmt.Errorf("sync %s: %w", tmp, err))
	}
	if err := os.RemoveAll(final); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	ok = true
	if err := syncDir(out); err != nil {
		return fail(fmt.Errorf("sync %s: %w", out, err))
	}
	FaultPoint("checkpoint-renamed", step)
	return final, nil
}

// Checkpoint is one checkpoint folder of an output folder.
type Checkpoint struct {
	Step int
	Dir  string
}

// Checkpoints returns the checkpoint folders of out, oldest step first.
func Checkpoints(out string) ([]Checkpoint, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	var cps []Checkpoint
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, CheckpointPrefix) {
			continue
		}
		step, err := strconv.Atoi(strings.TrimPrefix(name, CheckpointPrefix))
		if err != nil || step < 0 {
			continue
		}
		cps = append(cps, Checkpoint{step, filepath.Join(out, name)})
	}
	slices.SortFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.Step, b.Step) })
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
	cps, err := Checkpoints(out)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	for i := 0; i < len(cps)-keep; i++ {
		if err := os.RemoveAll(cps[i].Dir); err != nil {
			return fmt.Errorf("train: checkpoint: %w", err)
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
		return fmt.Errorf("train: %w", err)
	}
	probe := filepath.Join(out, writeProbe)
	f, err := os.OpenFile(probe, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("train: output folder %s is not writable: %w", out, err)
	}
	f.Close()
	if err := os.Remove(probe); err != nil {
		return fmt.Errorf("train: output folder %s: %w", out, err)
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
// log. A session calls it when it starts and after every checkpoint, so a run in out must not be writing
// concurrently.
func RemovePartial(out string, log io.Writer) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		for _, prefix := range partialFiles {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			path := filepath.Join(out, name)
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("train: checkpoint: removing the partial write %s: %w", path, err)
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

// ResolveCheckpoint turns a -resume value into a checkpoint folder: "latest" is the newest checkpoint in out;
// anything else is a folder that must hold a trainer state.
func ResolveCheckpoint(out, resume string) (string, error) {
	dir := resume
	if resume == "latest" {
		cps, err := Checkpoints(out)
		if err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("train: resume: %w", err)
		}
		if len(cps) == 0 {
			return "", fmt.Errorf("train: resume latest: no %sSTEP folder in %s", CheckpointPrefix, out)
		}
		dir = cps[len(cps)-1].Dir
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err != nil {
		return "", fmt.Errorf("train: resume: %s is not a checkpoint (no %s)", dir, StateFile)
	}
	return dir, nil
}

// WriteJSON writes v as indented JSON to path, atomically and durably (weights.WriteFileAtomic).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	return weights.WriteFileAtomic(path, append(data, '\n'))
}
