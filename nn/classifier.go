package nn

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// SequenceClassifier is a model with a sequence-classification head (GPT-2's score, RoBERTa's classifier,
// Llama's score), as Hugging Face's *ForSequenceClassification models.
type SequenceClassifier interface {
	// Logits maps token ids [B, T] (int64) and an attention mask [B, T] (int64; 1 = token, 0 = padding) to
	// class logits [B, C] in fp32. train enables dropout.
	Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor
	// Head returns the classification head's tensors under their checkpoint names (e.g. "score.weight");
	// they train with the adapters (PEFT's modules_to_save).
	Head() []NamedTensor
}

// Checkpointer is a model that can run a training step with gradient checkpointing: its layers run without
// autograd keeping only their inputs, and each is recomputed during the backward pass, so activation memory grows
// with one layer instead of all of them, for about one more forward pass of compute. The loss and gradients equal
// those of the full graph. Llama models implement it.
type Checkpointer interface {
	// CheckpointBackward runs the forward pass with dropout, lossFn on the logits (it returns a scalar and must
	// not drop them), and the backward pass, checkpointed, and returns the loss; when the loss is not finite no
	// gradient is touched. reseed(layer) seeds libtorch's generators before each layer and again before its
	// recomputation, so that both draw the same dropout masks.
	CheckpointBackward(ids, mask *ts.Tensor, lossFn func(logits *ts.Tensor) *ts.Tensor, reseed func(layer int) error) (float64, error)
}

// ClassifierOptions choose how a sequence classifier is built from a Hugging Face model directory (gpt2.Load,
// roberta.Load).
type ClassifierOptions struct {
	// NumLabels is the number of classes; 0 takes it from config.json (the size of id2label, 2 when absent).
	NumLabels int
	// DType is the dtype the model computes in: gotch.Float, gotch.Half, gotch.BFloat16 or gotch.Double.
	// Checkpoint tensors are converted to it as they load.
	DType gotch.DType
	// Device holds the model.
	Device gotch.Device
	// PadTokenID, when set, replaces config.json's pad_token_id (GPT-2 checkpoints have none: the GLUE
	// scripts use the eos token, 50256).
	PadTokenID *int64
	// Seed seeds the initialisation of a head the checkpoint does not have.
	Seed uint64
}

// DefaultClassifierOptions builds an fp32 model on the CPU with the number of classes of config.json.
func DefaultClassifierOptions() ClassifierOptions {
	return ClassifierOptions{DType: gotch.Float, Device: gotch.CPU, Seed: 1}
}
