package loraplus

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/loraplus-go/loraplus/nn"
)

// Config says which layers get adapters and how they are shaped.
type Config struct {
	nn.LoRAConfig
	// Targets are module names matched as PEFT matches a target_modules list: a module is adapted when its
	// path equals a target or ends with "." + target ("c_proj" adapts both attn.c_proj and mlp.c_proj).
	// The single target AllLinear ("all-linear", any case) adapts every linear layer but the output layer, as
	// PEFT's shorthand (see AllLinearTargets); Wrap replaces it by the module paths it selects.
	Targets []string
	// TargetRegex, when set, adapts every module whose full path matches it (PEFT's string form); it is
	// combined with Targets.
	TargetRegex string
	// Seed drives the initialisation of the adapters.
	Seed uint64
}

// AllLinear is PEFT's target_modules shorthand for every linear layer of the model except its output layer.
const AllLinear = "all-linear"

// IsAllLinear reports whether targets is PEFT's "all-linear" shorthand (compared case-insensitively, as PEFT).
func IsAllLinear(targets []string) bool {
	return len(targets) == 1 && strings.EqualFold(targets[0], AllLinear)
}

// headModel is a model with a classification head (nn.SequenceClassifier's Head).
type headModel interface{ Head() []nn.NamedTensor }

// AllLinearTargets returns, in nn.Modules order, the paths of the modules PEFT's target_modules="all-linear"
// selects (peft's _maybe_include_all_linear_layers): every nn.Linear (GPT-2's Conv1D loads as one) except the
// output layer: a top-level "lm_head" (a causal LM's output embeddings; a tied head has no layer) and the
// modules holding the tensors of a classifier's Head() (score, or RoBERTa's classifier.dense and
// classifier.out_proj, which PEFT's SEQ_CLS task keeps out as modules_to_save). Embeddings are not selected.
func AllLinearTargets(model any) ([]string, error) {
	mods, err := nn.Modules(model)
	if err != nil {
		return nil, err
	}
	exclude := map[string]bool{"lm_head": true}
	if h, ok := model.(headModel); ok {
		for _, t := range h.Head() {
			exclude[moduleOf(t.Name)] = true
		}
	}
	var out []string
	for _, m := range mods {
		if _, ok := m.Layer.(*nn.Linear); ok && !exclude[m.Path] {
			out = append(out, m.Path)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("target modules %q: the model has no linear layer besides its output layer", AllLinear)
	}
	return out, nil
}

// DefaultConfig is r = 8, alpha = 8, no dropout, B = 0 initialisation.
func DefaultConfig(targets ...string) Config {
	return Config{LoRAConfig: nn.LoRAConfig{Rank: 8, Alpha: 8}, Targets: targets, Seed: 1}
}

// Validate reports settings that cannot build adapters.
func (c Config) Validate() error {
	if err := c.LoRAConfig.Validate(); err != nil {
		return err
	}
	if len(c.Targets) == 0 && c.TargetRegex == "" {
		return fmt.Errorf("no target modules: set Targets or TargetRegex")
	}
	for _, t := range c.Targets {
		if t == "" {
			return fmt.Errorf("empty target module name")
		}
	}
	if c.TargetRegex != "" {
		if _, err := regexp.Compile("^(?:" + c.TargetRegex + ")$"); err != nil {
			return fmt.Errorf("target regex %q: %w", c.TargetRegex, err)
		}
	}
	return nil
}

// OptimConfig sets the LoRA+ AdamW. LR is lr_A; B-group tensors train at LR·Ratio.
type OptimConfig struct {
	LR          float64
	Ratio       float64 // lr_B / lr_A; 16 by default, 1 is plain LoRA
	LREmbedding float64 // absolute lr of embedding adapters (official default 1e-6)
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64 // decoupled (AdamW) decay of the A, embedding and B groups; B_no_decay gets none
	// LRMagnitude is the absolute lr of DoRA magnitudes; 0 trains them in group B at LR·Ratio, as the official
	// LoRA+ rule (and PEFT's create_loraplus_optimizer) does with every 1-D tensor.
	LRMagnitude float64
}

// DefaultOptimConfig is the paper's GLUE setting for a given lr_A: ratio 16, betas (0.9, 0.99), eps 1e-8, no decay.
func DefaultOptimConfig(lr float64) OptimConfig {
	return OptimConfig{LR: lr, Ratio: 16, LREmbedding: 1e-6, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
}

// Validate reports settings that cannot train.
func (c OptimConfig) Validate() error {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case bad(c.LR) || c.LR <= 0:
		return fmt.Errorf("learning rate must be > 0, got %v", c.LR)
	case bad(c.Ratio) || c.Ratio <= 0:
		return fmt.Errorf("LoRA+ ratio must be > 0, got %v", c.Ratio)
	case bad(c.LREmbedding) || c.LREmbedding < 0:
		return fmt.Errorf("embedding learning rate must be >= 0, got %v", c.LREmbedding)
	case !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("betas must be in [0, 1), got (%v, %v)", c.Beta1, c.Beta2)
	case bad(c.Eps) || c.Eps <= 0:
		return fmt.Errorf("eps must be > 0, got %v", c.Eps)
	case bad(c.LRMagnitude) || c.LRMagnitude < 0:
		return fmt.Errorf("DoRA magnitude learning rate must be >= 0, got %v", c.LRMagnitude)
	case bad(c.WeightDecay) || c.WeightDecay < 0:
		return fmt.Errorf("weight decay must be >= 0, got %v", c.WeightDecay)
	}
	return nil
}
