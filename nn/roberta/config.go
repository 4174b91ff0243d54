package roberta

import (
	"fmt"
	"math"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// Config is the config.json of a Hugging Face RoBERTa model (transformers' RobertaConfig).
type Config struct {
	weights.HFConfig
	VocabSize                 int64    `json:"vocab_size"`
	HiddenSize                int64    `json:"hidden_size"`
	NumHiddenLayers           int64    `json:"num_hidden_layers"`
	NumAttentionHeads         int64    `json:"num_attention_heads"`
	IntermediateSize          int64    `json:"intermediate_size"`
	HiddenAct                 string   `json:"hidden_act"`
	HiddenDropoutProb         float64  `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64  `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int64    `json:"max_position_embeddings"`
	TypeVocabSize             int64    `json:"type_vocab_size"`
	InitializerRange          float64  `json:"initializer_range"`
	LayerNormEps              float64  `json:"layer_norm_eps"`
	PositionEmbeddingType     string   `json:"position_embedding_type"`
	ClassifierDropout         *float64 `json:"classifier_dropout"` // nil: hidden_dropout_prob
}

// DefaultConfig returns transformers' RobertaConfig defaults, with roberta-base's sizes.
func DefaultConfig() Config {
	pad := int64(1)
	return Config{
		HFConfig:  weights.HFConfig{ModelType: "roberta", PadTokenID: &pad},
		VocabSize: 50265, HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12, IntermediateSize: 3072,
		HiddenAct: "gelu", HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1, MaxPositionEmbeddings: 512,
		TypeVocabSize: 2, InitializerRange: 0.02, LayerNormEps: 1e-12, PositionEmbeddingType: "absolute",
	}
}

// ReadConfig reads dir/config.json over the defaults and validates it.
func ReadConfig(dir string) (Config, error) { return weights.ReadConfig(dir, DefaultConfig()) }

// PadID returns pad_token_id, which is also the padding_idx of the embeddings (1 when unset).
func (c Config) PadID() int64 {
	if c.PadTokenID != nil {
		return *c.PadTokenID
	}
	return 1
}

// MaxLength returns the longest sequence the position embeddings cover: positions run from pad+1 to pad+T.
func (c Config) MaxLength() int64 { return c.MaxPositionEmbeddings - c.PadID() - 1 }

// HeadDropout returns the dropout of the classification head.
func (c Config) HeadDropout() float64 {
	if c.ClassifierDropout != nil {
		return *c.ClassifierDropout
	}
	return c.HiddenDropoutProb
}

// Validate reports a config that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0 || c.HiddenSize <= 0 || c.NumHiddenLayers <= 0 || c.NumAttentionHeads <= 0 ||
		c.IntermediateSize <= 0 || c.TypeVocabSize <= 0:
		return fmt.Errorf("RoBERTa sizes must be positive: vocab_size=%d hidden_size=%d num_hidden_layers=%d "+
			"num_attention_heads=%d intermediate_size=%d type_vocab_size=%d", c.VocabSize, c.HiddenSize,
			c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.TypeVocabSize)
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.PadID() < 0 || c.PadID() >= c.VocabSize:
		return fmt.Errorf("pad_token_id %d is outside the vocabulary of %d", c.PadID(), c.VocabSize)
	case c.MaxLength() <= 0:
		return fmt.Errorf("max_position_embeddings %d leaves no position after padding_idx %d", c.MaxPositionEmbeddings, c.PadID())
	case c.PositionEmbeddingType != "absolute":
		return fmt.Errorf("unsupported position_embedding_type %q (want absolute)", c.PositionEmbeddingType)
	case !nn.IsProb(c.HiddenDropoutProb) || !nn.IsProb(c.AttentionProbsDropoutProb) || !nn.IsProb(c.HeadDropout()):
		return fmt.Errorf("dropout probabilities must be in [0, 1): hidden_dropout_prob=%v attention_probs_dropout_prob=%v classifier_dropout=%v",
			c.HiddenDropoutProb, c.AttentionProbsDropoutProb, c.HeadDropout())
	case !(c.LayerNormEps > 0):
		return fmt.Errorf("layer_norm_eps must be > 0, got %v", c.LayerNormEps)
	case !(c.InitializerRange >= 0) || math.IsInf(c.InitializerRange, 0):
		return fmt.Errorf("initializer_range must be >= 0, got %v", c.InitializerRange)
	}
	if _, err := nn.ParseActivation(c.HiddenAct); err != nil {
		return err
	}
	return nil
}
