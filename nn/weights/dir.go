package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// File names of a Hugging Face model directory, as save_pretrained writes them.
const (
	ConfigFile           = "config.json"
	SafetensorsFile      = "model.safetensors"
	SafetensorsIndexFile = "model.safetensors.index.json"
	BinFile              = "pytorch_model.bin"
	BinIndexFile         = "pytorch_model.bin.index.json"
)

// HFConfig holds the fields of a Hugging Face config.json that every model type shares. Model configs embed it.
type HFConfig struct {
	ModelType     string            `json:"model_type"`
	Architectures []string          `json:"architectures"`
	ID2Label      map[string]string `json:"id2label"`
	PadTokenID    *int64            `json:"pad_token_id"`
	TorchDType    string            `json:"torch_dtype"`
	ProblemType   string            `json:"problem_type"`
}

// NumLabels returns the number of classes a sequence-classification head has: the size of id2label, or 2
// (transformers' default) when config.json has none.
func (c HFConfig) NumLabels() int {
	if len(c.ID2Label) > 0 {
		return len(c.ID2Label)
	}
	return 2
}

// ReadHFConfig decodes dir/config.json into v (a pointer to a struct with json tags). Fields absent from the
// file keep the values v already holds, so callers fill in the model's defaults first.
func ReadHFConfig(dir string, v any) error {
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("weights: %s: %w", path, err)
	}
	return nil
}

// ReadConfig reads dir/config.json over c (an architecture's defaults, e.g. gpt2.DefaultConfig()) with
// ReadHFConfig and validates the result; a validation error names the file.
func ReadConfig[C interface{ Validate() error }](dir string, c C) (C, error) {
	if err := ReadHFConfig(dir, &c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s/%s: %w", dir, ConfigFile, err)
	}
	return c, nil
}

// Dir is the checkpoint of a Hugging Face model directory seen as one Source: model.safetensors, shards
// listed in model.safetensors.index.json, pytorch_model.bin, or shards listed in pytorch_model.bin.index.json
// (the first of these that exists, transformers' order). Files are opened when one of their tensors is first asked for. Close it
// when done.
type Dir struct {
	Path  string   // the model directory
	Files []string // the checkpoint files, relative to Path, sorted
	names []string
	where map[string]string // tensor name → file
	open  map[string]checkpointFile
}

// checkpointFile is one checkpoint file.
type checkpointFile interface {
	Source
	Close() error
}

// OpenDir finds the checkpoint files of dir and reads their tensor names: from the index for a sharded
// checkpoint, from the file header (safetensors) or the pickle (pytorch_model.bin) otherwise.
func OpenDir(dir string) (*Dir, error) {
	d := &Dir{Path: dir, where: map[string]string{}, open: map[string]checkpointFile{}}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	var err error
	switch { // transformers' order of preference
	case exists(SafetensorsFile):
		err = d.addWhole(SafetensorsFile)
	case exists(SafetensorsIndexFile):
		err = d.readIndex(SafetensorsIndexFile)
	case exists(BinFile):
		err = d.addWhole(BinFile)
	case exists(BinIndexFile):
		err = d.readIndex(BinIndexFile)
	default:
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("weights: %s: no checkpoint (%s, %s, %s or %s)", dir,
			SafetensorsFile, SafetensorsIndexFile, BinFile, BinIndexFile)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// readIndex reads a sharded checkpoint's index: {"metadata": {...}, "weight_map": {tensor: file}}.
func (d *Dir) readIndex(name string) error {
	path := filepath.Join(d.Path, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return fmt.Errorf("weights: %s: %w", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return fmt.Errorf("weights: %s: empty or missing weight_map", path)
	}
	files := map[string]bool{}
	for t, f := range idx.WeightMap {
		if f == "" || filepath.IsAbs(f) || f != filepath.Base(f) {
			return fmt.Errorf("weights: %s: tensor %q: shard file name %q must be a plain file name", path, t, f)
		}
		d.where[t] = f
		d.names = append(d.names, t)
		files[f] = true
	}
	for f := range files {
		if _, err := os.Stat(filepath.Join(d.Path, f)); err != nil {
			return fmt.Errorf("weights: %s: shard of the index: %w", path, err)
		}
		d.Files = append(d.Files, f)
	}
	sort.Strings(d.Files)
	sort.Strings(d.names)
	return nil
}

// addWhole registers the tensors of a single-file checkpoint, which it opens now to read the names.
func (d *Dir) addWhole(name string) error {
	s, err := d.shard(name)
	if err != nil {
		return err
	}
	names := s.Names()
	for _, n := range names {
		d.where[n] = name
	}
	d.names = names
	d.Files = []string{name}
	return nil
}

// shard returns an open checkpoint file, opening it on first use.
func (d *Dir) shard(file string) (checkpointFile, error) {
	if s, ok := d.open[file]; ok {
		return s, nil
	}
	path := filepath.Join(d.Path, file)
	var s checkpointFile
	var err error
	if filepath.Ext(file) == ".safetensors" {
		s, err = OpenSafetensors(path)
	} else {
		s, err = openBin(path)
	}
	if err != nil {
		return nil, err
	}
	d.open[file] = s
	return s, nil
}

// lookup returns the open file that holds a tensor.
func (d *Dir) lookup(name string) (checkpointFile, error) {
	file, ok := d.where[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q in the checkpoint", d.Path, name)
	}
	return d.shard(file)
}

// Names lists the tensor names, sorted.
func (d *Dir) Names() []string { return append([]string(nil), d.names...) }

// Shape returns a tensor's shape; for a sharded checkpoint it opens the shard (reading its header only).
func (d *Dir) Shape(name string) ([]int64, error) {
	s, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	return s.Shape(name)
}

// DType returns the dtype a tensor is stored in; for a sharded checkpoint it opens the shard.
func (d *Dir) DType(name string) (gotch.DType, error) {
	s, err := d.lookup(name)
	if err != nil {
		return gotch.Float, err
	}
	return s.DType(name)
}

// Tensor loads one tensor on the CPU in the dtype it is stored in.
func (d *Dir) Tensor(name string) (*ts.Tensor, error) {
	s, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	return s.Tensor(name)
}

// Mapped returns tensor name over its memory-mapped file (Safetensors.Mapped); errUnsupported when the file is
// not safetensors.
func (d *Dir) Mapped(name string) (*ts.Tensor, error) {
	s, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	m, ok := s.(mapper)
	if !ok {
		return nil, errUnsupported
	}
	return m.Mapped(name)
}

// Close closes every file opened so far.
func (d *Dir) Close() error {
	var errs []error
	for _, f := range sortedKeys(d.open) {
		errs = append(errs, d.open[f].Close())
	}
	d.open = map[string]checkpointFile{}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
