package llama

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// Config holds the hyperparameters of a Llama model, as Hugging Face's LlamaConfig (transformers 4.44)
// stores them in config.json.
type Config struct {
	VocabSize             int     // vocab_size
	HiddenSize            int     // hidden_size
	IntermediateSize      int     // intermediate_size (the SwiGLU width)
	NumHiddenLayers       int     // num_hidden_layers
	NumAttentionHeads     int     // num_attention_heads
	NumKeyValueHeads      int     // num_key_value_heads (grouped-query attention); NumAttentionHeads when absent
	MaxPositionEmbeddings int     // max_position_embeddings (used by "dynamic" rope scaling)
	RMSNormEps            float64 // rms_norm_eps
	RopeTheta             float64 // rope_theta
	RopeScaling           *RopeScaling
	AttentionBias         bool    // attention_bias: q/k/v/o projections have biases
	MLPBias               bool    // mlp_bias: gate/up/down projections have biases
	AttentionDropout      float64 // attention_dropout, applied to attention weights in training
	InitializerRange      float64 // initializer_range, the std of the normal init of new weights
	TieWordEmbeddings     bool    // tie_word_embeddings: lm_head reuses embed_tokens' table
	PadTokenID            int     // pad_token_id, -1 when unset
	NumLabels             int     // classes of the sequence-classification head (len(id2label), default 2)
}

// RopeScaling is config.json's rope_scaling: how rotary frequencies are stretched for long contexts.
type RopeScaling struct {
	// Type is "linear", "dynamic" or "llama3" (rope_type, or the older key type).
	Type string
	// Factor is the scaling factor (all types).
	Factor float64
	// LowFreqFactor, HighFreqFactor and OriginalMaxPositionEmbeddings are the "llama3" parameters.
	LowFreqFactor                 float64
	HighFreqFactor                float64
	OriginalMaxPositionEmbeddings int
}

// HeadDim returns the width of one attention head, HiddenSize / NumAttentionHeads.
func (c *Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }

// DefaultConfig returns transformers' LlamaConfig defaults (the 7B shape) with no padding token.
func DefaultConfig() Config {
	return Config{
		VocabSize: 32000, HiddenSize: 4096, IntermediateSize: 11008, NumHiddenLayers: 32, NumAttentionHeads: 32,
		NumKeyValueHeads: 32, MaxPositionEmbeddings: 2048, RMSNormEps: 1e-6, RopeTheta: 10000,
		InitializerRange: 0.02, PadTokenID: -1, NumLabels: 2,
	}
}

// Validate reports a configuration that cannot build a model, naming the config.json key.
func (c *Config) Validate() error {
	pos := []struct {
		key string
		v   int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"num_key_value_heads", c.NumKeyValueHeads}, {"max_position_embeddings", c.MaxPositionEmbeddings},
		{"num_labels", c.NumLabels},
	}
	for _, p := range pos {
		if p.v <= 0 || p.v > 1<<30 {
			return fmt.Errorf("llama config: %s must be in [1, 2^30], got %d", p.key, p.v)
		}
	}
	switch {
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("llama config: hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("llama config: head dimension %d (hidden_size/num_attention_heads) must be even for rotary embeddings", c.HeadDim())
	case c.NumAttentionHeads%c.NumKeyValueHeads != 0:
		return fmt.Errorf("llama config: num_key_value_heads %d does not divide num_attention_heads %d", c.NumKeyValueHeads, c.NumAttentionHeads)
	case !(c.RMSNormEps > 0) || math.IsInf(c.RMSNormEps, 0):
		return fmt.Errorf("llama config: rms_norm_eps must be > 0, got %v", c.RMSNormEps)
	case !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0):
		return fmt.Errorf("llama config: rope_theta must be > 0, got %v", c.RopeTheta)
	case !(c.AttentionDropout >= 0 && c.AttentionDropout < 1):
		return fmt.Errorf("llama config: attention_dropout must be in [0, 1), got %v", c.AttentionDropout)
	case !(c.InitializerRange >= 0) || math.IsInf(c.InitializerRange, 0):
		return fmt.Errorf("llama config: initializer_range must be >= 0, got %v", c.InitializerRange)
	case c.PadTokenID < -1 || c.PadTokenID >= c.VocabSize:
		return fmt.Errorf("llama config: pad_token_id %d is outside the vocabulary of %d", c.PadTokenID, c.VocabSize)
	}
	if c.RopeScaling != nil {
		return c.RopeScaling.validate()
	}
	return nil
}

// validate checks the parameters that the scaling type needs.
func (r *RopeScaling) validate() error {
	if !(r.Factor > 0) || math.IsInf(r.Factor, 0) {
		return fmt.Errorf("llama config: rope_scaling.factor must be > 0, got %v", r.Factor)
	}
	switch r.Type {
	case "linear":
	case "dynamic":
		if r.Factor < 1 {
			return fmt.Errorf("llama config: rope_scaling.factor must be >= 1 for dynamic scaling, got %v", r.Factor)
		}
	case "llama3":
		if !(r.LowFreqFactor > 0) || !(r.HighFreqFactor > r.LowFreqFactor) {
			return fmt.Errorf("llama config: rope_scaling needs 0 < low_freq_factor < high_freq_factor, got %v and %v",
				r.LowFreqFactor, r.HighFreqFactor)
		}
		if r.OriginalMaxPositionEmbeddings <= 0 {
			return fmt.Errorf("llama config: rope_scaling.original_max_position_embeddings must be > 0, got %d",
				r.OriginalMaxPositionEmbeddings)
		}
	default:
		return fmt.Errorf("llama config: rope_scaling type %q is not supported (want linear, dynamic or llama3)", r.Type)
	}
	return nil
}

// llamaConfigJSON mirrors config.json; pointers tell absent keys from zero values.
type llamaConfigJSON struct {
	ModelType             string         `json:"model_type"`
	VocabSize             *int           `json:"vocab_size"`
	HiddenSize            *int           `json:"hidden_size"`
	IntermediateSize      *int           `json:"intermediate_size"`
	NumHiddenLayers       *int           `json:"num_hidden_layers"`
	NumAttentionHeads     *int           `json:"num_attention_heads"`
	NumKeyValueHeads      *int           `json:"num_key_value_heads"`
	HiddenAct             *string        `json:"hidden_act"`
	MaxPositionEmbeddings *int           `json:"max_position_embeddings"`
	RMSNormEps            *float64       `json:"rms_norm_eps"`
	RopeTheta             *float64       `json:"rope_theta"`
	RopeScaling           map[string]any `json:"rope_scaling"`
	RopeParameters        map[string]any `json:"rope_parameters"` // transformers ≥ 5: rope_theta and the scaling
	AttentionBias         *bool          `json:"attention_bias"`
	MLPBias               *bool          `json:"mlp_bias"`
	AttentionDropout      *float64       `json:"attention_dropout"`
	InitializerRange      *float64       `json:"initializer_range"`
	TieWordEmbeddings     *bool          `json:"tie_word_embeddings"`
	PadTokenID            *int           `json:"pad_token_id"`
	NumLabels             *int           `json:"num_labels"`
	ID2Label              map[string]any `json:"id2label"`
	HeadDim               *int           `json:"head_dim"`
}

// ParseConfig reads a Hugging Face config.json of a Llama model. Absent keys take Config's defaults;
// errors name the key.
func ParseConfig(data []byte) (*Config, error) {
	var j llamaConfigJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("llama config: %w", err)
	}
	if j.ModelType != "" && j.ModelType != "llama" {
		return nil, fmt.Errorf("llama config: model_type is %q, want \"llama\"", j.ModelType)
	}
	if j.HiddenAct != nil && *j.HiddenAct != "silu" {
		return nil, fmt.Errorf("llama config: hidden_act %q is not supported (want silu)", *j.HiddenAct)
	}
	c := DefaultConfig()
	setInt := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	setF := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	setB := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	setInt(&c.VocabSize, j.VocabSize)
	setInt(&c.HiddenSize, j.HiddenSize)
	setInt(&c.IntermediateSize, j.IntermediateSize)
	setInt(&c.NumHiddenLayers, j.NumHiddenLayers)
	setInt(&c.NumAttentionHeads, j.NumAttentionHeads)
	c.NumKeyValueHeads = c.NumAttentionHeads
	setInt(&c.NumKeyValueHeads, j.NumKeyValueHeads)
	setInt(&c.MaxPositionEmbeddings, j.MaxPositionEmbeddings)
	setF(&c.RMSNormEps, j.RMSNormEps)
	setF(&c.RopeTheta, j.RopeTheta)
	setB(&c.AttentionBias, j.AttentionBias)
	setB(&c.MLPBias, j.MLPBias)
	setF(&c.AttentionDropout, j.AttentionDropout)
	setF(&c.InitializerRange, j.InitializerRange)
	setB(&c.TieWordEmbeddings, j.TieWordEmbeddings)
	setInt(&c.PadTokenID, j.PadTokenID)
	if len(j.ID2Label) > 0 {
		c.NumLabels = len(j.ID2Label)
	}
	setInt(&c.NumLabels, j.NumLabels)
	if j.HeadDim != nil && c.NumAttentionHeads > 0 && *j.HeadDim != c.HiddenSize/c.NumAttentionHeads {
		return nil, fmt.Errorf("llama config: head_dim %d differs from hidden_size/num_attention_heads = %d, which is not supported",
			*j.HeadDim, c.HiddenSize/c.NumAttentionHeads)
	}
	if j.RopeScaling != nil {
		rs, err := parseLlamaRopeScaling("rope_scaling", j.RopeScaling)
		if err != nil {
			return nil, err
		}
		c.RopeScaling = rs
	}
	if j.RopeParameters != nil {
		// transformers 5 writes rope_parameters {rope_type, rope_theta, factor, ...} in place of rope_theta and
		// rope_scaling; a file with both is taken at its rope_parameters.
		if v, ok := j.RopeParameters["rope_theta"]; ok {
			f, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("llama config: rope_parameters.rope_theta must be a number, got %v", v)
			}
			c.RopeTheta = f
		}
		rs, err := parseLlamaRopeScaling("rope_parameters", j.RopeParameters)
		if err != nil {
			return nil, err
		}
		c.RopeScaling = rs
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseLlamaRopeScaling reads the scaling from config.json's object key (rope_scaling, or rope_parameters); errors
// name the key.
func parseLlamaRopeScaling(key string, m map[string]any) (*RopeScaling, error) {
	typ, _ := m["rope_type"].(string)
	if typ == "" {
		typ, _ = m["type"].(string)
	}
	if typ == "" {
		return nil, fmt.Errorf("llama config: %s has no rope_type", key)
	}
	if typ == "default" {
		return nil, nil
	}
	num := func(name string, required bool) (float64, error) {
		v, ok := m[name]
		if !ok || v == nil {
			if required {
				return 0, fmt.Errorf("llama config: %s.%s is required for rope_type %q", key, name, typ)
			}
			return 0, nil
		}
		f, ok := v.(float64)
		if !ok {
			return 0, fmt.Errorf("llama config: %s.%s must be a number, got %v", key, name, v)
		}
		return f, nil
	}
	rs := &RopeScaling{Type: typ}
	var err error
	if rs.Factor, err = num("factor", true); err != nil {
		return nil, err
	}
	if typ == "llama3" {
		if rs.LowFreqFactor, err = num("low_freq_factor", true); err != nil {
			return nil, err
		}
		if rs.HighFreqFactor, err = num("high_freq_factor", true); err != nil {
			return nil, err
		}
		omp, err := num("original_max_position_embeddings", true)
		if err != nil {
			return nil, err
		}
		rs.OriginalMaxPositionEmbeddings = int(omp)
	}
	return rs, nil
}

// ReadConfig reads and parses a config.json file; errors name the file.
func ReadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
