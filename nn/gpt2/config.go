package gpt2

import (
	"fmt"
	"math"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// Config is the config.json of a Hugging Face GPT-2 model (transformers' GPT2Config).
type Config struct {
	weights.HFConfig
	VocabSize                  int64   `json:"vocab_size"`
	NPositions                 int64   `json:"n_positions"`
	NEmbd                      int64   `json:"n_embd"`
	NLayer                     int64   `json:"n_layer"`
	NHead                      int64   `json:"n_head"`
	NInner                     *int64  `json:"n_inner"` // nil: 4·n_embd
	ActivationFunction         string  `json:"activation_function"`
	ResidPdrop                 float64 `json:"resid_pdrop"`
	EmbdPdrop                  float64 `json:"embd_pdrop"`
	AttnPdrop                  float64 `json:"attn_pdrop"`
	LayerNormEpsilon           float64 `json:"layer_norm_epsilon"`
	InitializerRange           float64 `json:"initializer_range"`
	ScaleAttnWeights           bool    `json:"scale_attn_weights"`
	ScaleAttnByInverseLayerIdx bool    `json:"scale_attn_by_inverse_layer_idx"`
	ReorderAndUpcastAttn       bool    `json:"reorder_and_upcast_attn"` // accepted; fp32 models compute the same
}

// DefaultConfig returns transformers' GPT2Config defaults (the 124M "gpt2" model).
func DefaultConfig() Config {
	return Config{
		HFConfig:  weights.HFConfig{ModelType: "gpt2"},
		VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12, NHead: 12,
		ActivationFunction: "gelu_new", ResidPdrop: 0.1, EmbdPdrop: 0.1, AttnPdrop: 0.1,
		LayerNormEpsilon: 1e-5, InitializerRange: 0.02, ScaleAttnWeights: true,
	}
}

// ReadConfig reads dir/config.json over the defaults and validates it.
func ReadConfig(dir string) (Config, error) { return weights.ReadConfig(dir, DefaultConfig()) }

// Inner returns the width of the MLP's hidden layer.
func (c Config) Inner() int64 {
	if c.NInner != nil {
		return *c.NInner
	}
	return 4 * c.NEmbd
}

// Validate reports a config that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0 || c.NPositions <= 0 || c.NEmbd <= 0 || c.NLayer <= 0 || c.NHead <= 0 || c.Inner() <= 0:
		return fmt.Errorf("GPT-2 sizes must be positive: vocab_size=%d n_positions=%d n_embd=%d n_layer=%d n_head=%d n_inner=%d",
			c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead, c.Inner())
	case c.NEmbd%c.NHead != 0:
		return fmt.Errorf("n_embd %d is not a multiple of n_head %d", c.NEmbd, c.NHead)
	case !nn.IsProb(c.ResidPdrop) || !nn.IsProb(c.EmbdPdrop) || !nn.IsProb(c.AttnPdrop):
		return fmt.Errorf("dropout probabilities must be in [0, 1): resid_pdrop=%v embd_pdrop=%v attn_pdrop=%v",
			c.ResidPdrop, c.EmbdPdrop, c.AttnPdrop)
	case !(c.LayerNormEpsilon > 0):
		return fmt.Errorf("layer_norm_epsilon must be > 0, got %v", c.LayerNormEpsilon)
	case !(c.InitializerRange >= 0) || math.IsInf(c.InitializerRange, 0):
		return fmt.Errorf("initializer_range must be >= 0, got %v", c.InitializerRange)
	}
	if _, err := nn.ParseActivation(c.ActivationFunction); err != nil {
		return err
	}
	return nil
}
