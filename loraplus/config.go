package loraplus

import (
	"fmt"
	"math"
	"regexp"

	"github.com/loraplus-go/loraplus/nn"
)

// Config says which layers get adapters and how they are shaped.
type Config struct {
	nn.LoRAConfig
	// Targets are module names matched as PEFT matches a target_modules list: a module is adapted when its
	// path equals a target or ends with "." + target ("c_proj" adapts both attn.c_proj and mlp.c_proj).
	Targets []string
	// TargetRegex, when set, adapts every module whose full path matches it (PEFT's string form); it is
	// combined with Targets.
	TargetRegex string
	// Seed drives the initialisation of the adapters.
	Seed uint64
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
