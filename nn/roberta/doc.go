// Package roberta is the RoBERTa encoder as transformers builds it, for sequence classification.
//
//   - Config: config.json (ReadConfig, DefaultConfig); Model: Embeddings (word, position, token type,
//     LayerNorm) and an Encoder of post-LN Layers (Attention: SelfAttention and DenseNorm; Intermediate;
//     DenseNorm); ForSequenceClassification: Model under "roberta." and ClassificationHead (dense, tanh,
//     out_proj) read at the first token.
//   - New allocates a classifier of zeros; Load builds one from a Hugging Face model directory (a
//     RobertaForSequenceClassification, RobertaForMaskedLM or bare RobertaModel checkpoint; see nn/weights).
//
// Shapes: ids and mask are [B, T] int64 (mask 1 = token, 0 = padding; T at most max_position_embeddings −
// pad_token_id − 1); hidden states are [B, T, hidden]; logits are [B, num_labels] fp32. Linear weights are
// [out, in]: query, key, value and attention.output.dense [hidden, hidden], intermediate.dense
// [intermediate_size, hidden], output.dense [hidden, intermediate_size], classifier.dense [hidden, hidden],
// classifier.out_proj [num_labels, hidden]; word_embeddings [vocab_size, hidden].
//
// Go field names are not checkpoint names: the `name` tags are (see nn.Modules), so a state dict written from a
// model has transformers' keys, e.g. "roberta.encoder.layer.0.attention.self.query.weight".
//
// Errors start with "roberta: ".
package roberta
