package loraplus

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// Kind says what a trainable tensor is.
type Kind int

const (
	KindLoRAA      Kind = iota // lora_A of a Linear
	KindLoRAB                  // lora_B of a Linear
	KindEmbeddingA             // lora_embedding_A
	KindEmbeddingB             // lora_embedding_B
	KindExtra                  // any other trainable tensor (a classification head, a norm, ...)
	KindMagnitude              // lora_magnitude_vector of a DoRA Linear, [out]
)

// String returns the kind's name in plans: "lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "extra",
// "dora_magnitude".
func (k Kind) String() string {
	names := [...]string{"lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "extra", "dora_magnitude"}
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return names[k]
}

// Param is one trainable tensor with its checkpoint name (the name PEFT saves, without "base_model.model.").
type Param struct {
	Name    string
	Tensor  *ts.Tensor
	Kind    Kind
	NoDecay bool // a bias or a norm weight
}

// Model is a model with LoRA adapters attached and the list of everything that trains.
type Model struct {
	Base   any    // the wrapped model, as given to Wrap
	Config Config // the adapter settings
	// Adapted maps module paths to the layers that got an adapter (*nn.Linear or *nn.Embedding).
	Adapted map[string]nn.Layer
	Params  []*Param
	rng     *rand.Rand
}

// Wrap attaches a LoRA adapter to every target layer of model (see nn.Modules for how layers are named); the
// target "all-linear" is resolved by AllLinearTargets and the Config kept in the Model lists the paths. With
// cfg.DoRA each Linear also gets a DoRA magnitude, registered as "<path>.lora_magnitude_vector" (the key PEFT
// saves); DoRA on an Embedding target is an error.
// A target that matches no module, or matches a module that is not an nn.Linear or nn.Embedding, is an error
// naming it. Frozen tensors of the model must not require grad.
func Wrap(model any, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mods, err := nn.Modules(model)
	if err != nil {
		return nil, err
	}
	if IsAllLinear(cfg.Targets) {
		if cfg.Targets, err = AllLinearTargets(model); err != nil {
			return nil, err
		}
	}
	var re *regexp.Regexp
	if cfg.TargetRegex != "" {
		re = regexp.MustCompile("^(?:" + cfg.TargetRegex + ")$")
	}
	m := &Model{Base: model, Config: cfg, Adapted: map[string]nn.Layer{}, rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))}
	used := make([]bool, len(cfg.Targets))
	matchedRegex := false
	for _, mod := range mods {
		hit := false
		for i, t := range cfg.Targets {
			if mod.Path == t || strings.HasSuffix(mod.Path, "."+t) {
				used[i], hit = true, true
			}
		}
		if re != nil && re.MatchString(mod.Path) {
			hit, matchedRegex = true, true
		}
		if !hit {
			continue
		}
		if err := m.adapt(mod); err != nil {
			return nil, err
		}
	}
	var missing []string
	for i, t := range cfg.Targets {
		if !used[i] {
			missing = append(missing, fmt.Sprintf("%q", t))
		}
	}
	if re != nil && !matchedRegex {
		missing = append(missing, fmt.Sprintf("regex %q", cfg.TargetRegex))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("target modules %s match no module of the model (modules: %s)",
			strings.Join(missing, ", "), modulePaths(mods, 12))
	}
	return m, nil
}

func (m *Model) adapt(mod nn.NamedModule) error {
	switch l := mod.Layer.(type) {
	case *nn.Linear:
		if err := l.AddLoRA(m.Config.LoRAConfig, m.rng); err != nil {
			return fmt.Errorf("target %q: %w", mod.Path, err)
		}
		m.Params = append(m.Params,
			&Param{Name: mod.Path + ".lora_A.weight", Tensor: l.LoRA.A, Kind: KindLoRAA},
			&Param{Name: mod.Path + ".lora_B.weight", Tensor: l.LoRA.B, Kind: KindLoRAB})
		if l.LoRA.Magnitude != nil {
			m.Params = append(m.Params,
				&Param{Name: mod.Path + ".lora_magnitude_vector", Tensor: l.LoRA.Magnitude, Kind: KindMagnitude})
		}
	case *nn.Embedding:
		if err := l.AddLoRA(m.Config.LoRAConfig, m.rng); err != nil {
			return fmt.Errorf("target %q: %w", mod.Path, err)
		}
		m.Params = append(m.Params,
			&Param{Name: mod.Path + ".lora_embedding_A", Tensor: l.LoRA.A, Kind: KindEmbeddingA},
			&Param{Name: mod.Path + ".lora_embedding_B", Tensor: l.LoRA.B, Kind: KindEmbeddingB})
	default:
		return fmt.Errorf("target %q is a %T, not an nn.Linear or nn.Embedding", mod.Path, mod.Layer)
	}
	m.Adapted[mod.Path] = mod.Layer
	return nil
}

// AddTrainable registers another tensor to train with the adapters (PEFT's modules_to_save), e.g. a
// classification head. The tensor is made to require grad. Biases and norm weights are recognised by name
// (see IsNoDecay) and get no weight decay.
func (m *Model) AddTrainable(name string, t *ts.Tensor) error {
	if name == "" || t == nil {
		return fmt.Errorf("AddTrainable: empty name or nil tensor")
	}
	for _, p := range m.Params {
		if p.Name == name {
			return fmt.Errorf("AddTrainable: %q is already trainable", name)
		}
	}
	if !t.MustRequiresGrad() {
		t.MustRequiresGrad_(true)
	}
	m.Params = append(m.Params, &Param{Name: name, Tensor: t, Kind: KindExtra, NoDecay: IsNoDecay(name)})
	return nil
}

// IsNoDecay reports whether a parameter name is a bias or a LayerNorm/RMSNorm weight, the tensors that the
// official LoRA+ code and the Hugging Face Trainer exempt from weight decay.
func IsNoDecay(name string) bool {
	parts := strings.Split(name, ".")
	last := parts[len(parts)-1]
	if strings.Contains(last, "bias") {
		return true
	}
	if len(parts) < 2 {
		return false
	}
	mod := strings.ToLower(parts[len(parts)-2])
	return strings.Contains(mod, "norm") || strings.HasPrefix(mod, "ln_") || mod == "ln" || strings.HasSuffix(mod, "_ln")
}

// Trainable returns the trainable tensors in registration order.
func (m *Model) Trainable() []*ts.Tensor {
	out := make([]*ts.Tensor, len(m.Params))
	for i, p := range m.Params {
		out[i] = p.Tensor
	}
	return out
}

// NumTrainable returns the number of trainable scalars.
func (m *Model) NumTrainable() int64 {
	var n int64
	for _, p := range m.Params {
		n += int64(p.Tensor.Numel())
	}
	return n
}

// Merge folds every adapter into its base weight (for inference); Unmerge undoes it.
func (m *Model) Merge() error { return m.eachMergeable(func(x mergeable) error { return x.Merge() }) }

// Unmerge takes every adapter out of its base weight again.
func (m *Model) Unmerge() error {
	return m.eachMergeable(func(x mergeable) error { return x.Unmerge() })
}

type mergeable interface {
	Merge() error
	Unmerge() error
}

func (m *Model) eachMergeable(f func(mergeable) error) error {
	for _, path := range slices.Sorted(maps.Keys(m.Adapted)) {
		if err := f(m.Adapted[path].(mergeable)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// CheckFrozen returns an error naming any tensor of the base model that requires grad but is not registered as
// trainable: such a tensor would get gradients but never be updated.
func (m *Model) CheckFrozen() error {
	params, err := nn.Parameters(m.Base)
	if err != nil {
		return err
	}
	known := map[*ts.Tensor]bool{}
	for _, p := range m.Params {
		known[p.Tensor] = true
	}
	for _, p := range params {
		if p.Tensor.MustRequiresGrad() && !known[p.Tensor] {
			return fmt.Errorf("tensor %q requires grad but is in no optimizer group: freeze it or AddTrainable it", p.Name)
		}
	}
	return nil
}

func modulePaths(mods []nn.NamedModule, max int) string {
	var s []string
	for i, m := range mods {
		if i == max {
			s = append(s, fmt.Sprintf("… %d more", len(mods)-max))
			break
		}
		s = append(s, m.Path)
	}
	return strings.Join(s, ", ")
}
