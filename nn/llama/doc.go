// Package llama is the Llama decoder (Llama 2/3, SmolLM2, TinyLlama, ...) as transformers builds it.
//
//   - Config: config.json (ReadConfig, ParseConfig, DefaultConfig; RopeScaling); Model: embed_tokens,
//     DecoderLayers (RMSNorm, Attention with Rotary embeddings and grouped-query heads, SwiGLU MLP) and norm.
//   - ForCausalLM: Model and lm_head (tied to the embeddings when the config says so), CausalLMLoss;
//     ForSequenceClassification: Model and an fp32 "score" head read at each sequence's last non-pad token.
//     Both offer LossAndBackward with optional activation checkpointing (BackwardOptions).
//   - New and NewForSequenceClassification build models (BuildOptions: dtype, device, random init);
//     Load and LoadForSequenceClassification read them from a Hugging Face model directory or a GGUF file
//     (Options), through nn/weights.
//
// Shapes: ids and mask are [B, T] int64 (mask 1 = token, 0 = padding); hidden states are [B, T, hidden];
// causal LM logits are [B, T, vocab], classifier logits [B, num_labels] fp32. Linear weights are [out, in]:
// q_proj [heads·D, hidden], k_proj and v_proj [kv_heads·D, hidden], o_proj [hidden, heads·D], gate_proj and
// up_proj [intermediate, hidden], down_proj [hidden, intermediate]; embed_tokens and lm_head [vocab, hidden];
// score [num_labels, hidden]. D is hidden/heads.
//
// Go field names are not checkpoint names: the `name` tags are (see nn.Modules), so a state dict written from a
// model has transformers' keys, e.g. "model.layers.0.self_attn.q_proj.weight".
//
// Errors start with "llama: " (configuration errors with "llama config: ").
package llama
