package nn

import "github.com/sugarme/gotch/ts"

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
