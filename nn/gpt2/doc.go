// Package gpt2 is the GPT-2 architecture as transformers builds it, for sequence classification.
//
//   - Config: config.json (ReadConfig, DefaultConfig); Model: token and position embeddings, n_layer pre-LN
//     blocks (Block: Attention, MLP) and ln_f; ForSequenceClassification: Model under "transformer." and a
//     bias-free "score" head read at each sequence's last non-pad token.
//   - New allocates a classifier of zeros; Load builds one from a Hugging Face model directory (a
//     GPT2ForSequenceClassification, GPT2LMHeadModel or bare GPT2Model checkpoint; see nn/weights).
//
// Shapes: ids and mask are [B, T] int64 (mask 1 = token, 0 = padding); hidden states are [B, T, n_embd];
// logits are [B, num_labels] fp32. The Conv1D weights are [in, out] as in the checkpoints: c_attn
// [n_embd, 3·n_embd], c_proj [n_embd, n_embd], c_fc [n_embd, inner], mlp.c_proj [inner, n_embd]; wte is
// [vocab_size, n_embd], wpe [n_positions, n_embd], score [num_labels, n_embd].
//
// Go field names are not checkpoint names: the `name` tags are (see nn.Modules), so a state dict written from a
// model has transformers' keys, e.g. "transformer.h.0.attn.c_attn.weight".
//
// Errors start with "gpt2: ".
package gpt2
