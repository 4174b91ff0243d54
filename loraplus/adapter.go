package loraplus

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// File names of an adapter directory, as PEFT writes them, plus the LoRA+ sidecar.
const (
	AdapterConfigFile  = "adapter_config.json"
	AdapterWeightsFile = "adapter_model.safetensors"
	LoRAPlusConfigFile = "loraplus_config.json"
	peftPrefix         = "base_model.model."
)

// PEFTConfig is the part of PEFT's adapter_config.json (a LoraConfig) that this package reads and writes.
// Fields PEFT knows but this package does not use are written with PEFT's defaults.
type PEFTConfig struct {
	PEFTType          string   `json:"peft_type"`
	TaskType          *string  `json:"task_type"`
	BaseModel         *string  `json:"base_model_name_or_path"`
	R                 int      `json:"r"`
	LoRAAlpha         float64  `json:"lora_alpha"`
	LoRADropout       float64  `json:"lora_dropout"`
	TargetModules     any      `json:"target_modules"` // []string, or a regex string
	FanInFanOut       bool     `json:"fan_in_fan_out"`
	Bias              string   `json:"bias"`
	UseRSLoRA         bool     `json:"use_rslora"`
	ModulesToSave     []string `json:"modules_to_save"`
	InitLoRAWeights   bool     `json:"init_lora_weights"`
	InferenceMode     bool     `json:"inference_mode"`
	UseDoRA           bool     `json:"use_dora"`
	Revision          *string  `json:"revision"`
	RankPattern       struct{} `json:"rank_pattern"`
	AlphaPattern      struct{} `json:"alpha_pattern"`
	LayersToTransform any      `json:"layers_to_transform"`
	LayersPattern     any      `json:"layers_pattern"`
}

// LoRAPlusMeta records how an adapter was trained; SaveAdapter writes it to loraplus_config.json and to the
// safetensors metadata, since PEFT's config has no place for it.
type LoRAPlusMeta struct {
	Ratio       float64           `json:"loraplus_lr_ratio"`
	LR          float64           `json:"lr"`
	LREmbedding float64           `json:"loraplus_lr_embedding"`
	LRMagnitude float64           `json:"loraplus_lr_magnitude,omitempty"`
	Beta1       float64           `json:"beta1"`
	Beta2       float64           `json:"beta2"`
	Eps         float64           `json:"eps"`
	WeightDecay float64           `json:"weight_decay"`
	Init        string            `json:"init"`
	Seed        uint64            `json:"seed"`
	Groups      map[string]string `json:"groups"` // tensor name → group
	Extra       map[string]string `json:"extra,omitempty"`
}

// AdapterOptions describe the adapter for its config files.
type AdapterOptions struct {
	BaseModel string // base_model_name_or_path
	TaskType  string // PEFT task type, e.g. "SEQ_CLS", "CAUSAL_LM"; empty for none
	Optim     *OptimConfig
	Extra     map[string]string // free-form notes recorded in loraplus_config.json
}

// SaveAdapter writes dir/adapter_config.json and dir/adapter_model.safetensors in PEFT's format (keys
// "base_model.model.<name>", e.g. base_model.model.h.0.attn.c_attn.lora_A.weight) and dir/loraplus_config.json.
// Each file is written atomically.
func (m *Model) SaveAdapter(dir string, o AdapterOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := m.peftConfig(o)
	meta := LoRAPlusMeta{Init: m.Config.Init.String(), Seed: m.Config.Seed, Groups: map[string]string{}, Extra: o.Extra}
	if o.Optim != nil {
		c := *o.Optim
		meta.Ratio, meta.LR, meta.LREmbedding, meta.Beta1, meta.Beta2, meta.Eps, meta.WeightDecay, meta.LRMagnitude =
			c.Ratio, c.LR, c.LREmbedding, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, c.LRMagnitude
	}
	var tensors []nn.NamedTensor
	for _, p := range m.Params {
		tensors = append(tensors, nn.NamedTensor{Name: peftPrefix + p.Name, Tensor: p.Tensor})
		meta.Groups[p.Name] = Assign(p)
		if p.Kind == KindMagnitude && meta.LRMagnitude > 0 {
			meta.Groups[p.Name] = GroupMagnitude
		}
	}
	metaJSON, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := weights.WriteSafetensors(filepath.Join(dir, AdapterWeightsFile), tensors,
		map[string]string{"format": "pt", "loraplus": string(metaJSON)}); err != nil {
		return err
	}
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := weights.WriteFileAtomic(filepath.Join(dir, AdapterConfigFile), append(cfgJSON, '\n')); err != nil {
		return err
	}
	return weights.WriteFileAtomic(filepath.Join(dir, LoRAPlusConfigFile), append(metaJSON, '\n'))
}

func (m *Model) peftConfig(o AdapterOptions) PEFTConfig {
	c := PEFTConfig{
		PEFTType: "LORA", R: m.Config.Rank, LoRAAlpha: m.Config.Alpha, LoRADropout: m.Config.Dropout,
		Bias: "none", UseRSLoRA: m.Config.RSLoRA, InitLoRAWeights: true, InferenceMode: true, UseDoRA: m.Config.DoRA,
	}
	if o.TaskType != "" {
		c.TaskType = &o.TaskType
	}
	if o.BaseModel != "" {
		c.BaseModel = &o.BaseModel
	}
	if m.Config.TargetRegex != "" && len(m.Config.Targets) == 0 {
		c.TargetModules = m.Config.TargetRegex
	} else {
		targets := append([]string(nil), m.Config.Targets...)
		sort.Strings(targets)
		c.TargetModules = targets
	}
	for _, l := range m.Adapted {
		if lin, ok := l.(*nn.Linear); ok && lin.Transposed {
			c.FanInFanOut = true
		}
	}
	mods := map[string]bool{}
	for _, p := range m.Params {
		if p.Kind == KindExtra {
			mods[moduleOf(p.Name)] = true
		}
	}
	c.ModulesToSave = slices.Sorted(maps.Keys(mods))
	if len(c.ModulesToSave) == 0 {
		c.ModulesToSave = nil
	}
	return c
}

func moduleOf(name string) string {
	if i := strings.LastIndex(name, "."); i >= 0 {
		return name[:i]
	}
	return name
}

// ReadPEFTConfig reads dir/adapter_config.json and turns it into a Config. Settings this package cannot honour
// (bias training, rank or alpha patterns, a non-LoRA peft_type) are errors naming the key; use_dora sets
// Config.DoRA.
func ReadPEFTConfig(dir string) (Config, PEFTConfig, error) {
	path := filepath.Join(dir, AdapterConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, PEFTConfig{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, PEFTConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	for _, key := range []string{"rank_pattern", "alpha_pattern"} {
		if v, ok := raw[key]; ok && string(v) != "{}" && string(v) != "null" {
			return Config{}, PEFTConfig{}, fmt.Errorf("%s: %s is not supported", path, key)
		}
	}
	delete(raw, "rank_pattern")
	delete(raw, "alpha_pattern")
	clean, _ := json.Marshal(raw)
	var pc PEFTConfig
	if err := json.Unmarshal(clean, &pc); err != nil {
		return Config{}, PEFTConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case pc.PEFTType != "LORA":
		return Config{}, pc, fmt.Errorf("%s: peft_type is %q, want \"LORA\"", path, pc.PEFTType)
	case pc.Bias != "" && pc.Bias != "none":
		return Config{}, pc, fmt.Errorf("%s: bias %q is not supported (only \"none\")", path, pc.Bias)
	}
	cfg := Config{Seed: 1}
	cfg.Rank, cfg.Alpha, cfg.Dropout, cfg.RSLoRA, cfg.DoRA = pc.R, pc.LoRAAlpha, pc.LoRADropout, pc.UseRSLoRA, pc.UseDoRA
	switch t := pc.TargetModules.(type) {
	case string:
		cfg.TargetRegex = t
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return Config{}, pc, fmt.Errorf("%s: target_modules must hold strings", path)
			}
			cfg.Targets = append(cfg.Targets, s)
		}
	default:
		return Config{}, pc, fmt.Errorf("%s: target_modules must be a list or a regex string", path)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, pc, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, pc, nil
}

// LoadAdapter attaches the adapter saved in dir (by SaveAdapter or by PEFT's save_pretrained) to model: it wraps
// the target modules named in adapter_config.json, loads lora_A/lora_B (and lora_embedding_A/B, and DoRA's
// lora_magnitude_vector when use_dora is true) values, and
// loads and registers as trainable the modules_to_save tensors. Missing or unexpected keys and shape mismatches
// are errors that list them.
func LoadAdapter(model any, dir string) (*Model, error) {
	cfg, pc, err := ReadPEFTConfig(dir)
	if err != nil {
		return nil, err
	}
	m, err := Wrap(model, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	path := filepath.Join(dir, AdapterWeightsFile)
	st, err := weights.OpenSafetensors(path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	want := map[string]*ts.Tensor{}
	for _, p := range m.Params {
		want[peftPrefix+p.Name] = p.Tensor
	}
	base, err := nn.Parameters(model)
	if err != nil {
		return nil, err
	}
	extras := map[string]*ts.Tensor{}
	for _, mod := range pc.ModulesToSave {
		for _, p := range base {
			if p.Name == mod || strings.HasPrefix(p.Name, mod+".") || strings.HasSuffix(moduleOf(p.Name), "."+mod) {
				want[peftPrefix+p.Name] = p.Tensor
				extras[p.Name] = p.Tensor
			}
		}
	}
	var missing, unexpected, badShape []string
	for _, name := range st.Names() {
		if _, ok := want[name]; !ok {
			unexpected = append(unexpected, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		info, ok := st.Tensors[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if got := want[name].MustSize(); !nn.SameShape(got, info.Shape) {
			badShape = append(badShape, fmt.Sprintf("%s: file %v, model %v", name, info.Shape, got))
		}
	}
	if len(missing)+len(unexpected)+len(badShape) > 0 {
		return nil, fmt.Errorf("%s does not fit the model:%s%s%s", path,
			nn.ListNames("missing keys", missing), nn.ListNames("unexpected keys", unexpected), nn.ListNames("shape mismatches", badShape))
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		src, err := st.Tensor(name)
		if err != nil {
			return nil, err
		}
		dst := want[name].MustDetach(false)
		dst.Copy_(src)
		dst.MustDrop()
		src.MustDrop()
	}
	for _, name := range slices.Sorted(maps.Keys(extras)) {
		if err := m.AddTrainable(name, extras[name]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// LoadTrainable copies the values of every trainable tensor of m (adapters and extra tensors) from an
// adapter_model.safetensors written by SaveAdapter, e.g. to resume training: the model is already wrapped with the
// same settings. Missing tensors and shape mismatches are errors naming them, found before anything is copied.
func (m *Model) LoadTrainable(path string) error {
	st, err := weights.OpenSafetensors(path)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, p := range m.Params {
		name := peftPrefix + p.Name
		info, ok := st.Tensors[name]
		if !ok {
			return fmt.Errorf("%s: missing tensor %q", path, name)
		}
		if got := p.Tensor.MustSize(); !nn.SameShape(got, info.Shape) {
			return fmt.Errorf("%s: tensor %q has shape %v, model has %v", path, name, info.Shape, got)
		}
	}
	for _, p := range m.Params {
		src, err := st.Tensor(peftPrefix + p.Name)
		if err != nil {
			return err
		}
		dst := p.Tensor.MustDetach(false)
		dst.Copy_(src)
		dst.MustDrop()
		src.MustDrop()
	}
	return nil
}
