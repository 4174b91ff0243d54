// Package nn holds the layers of the models this module finetunes, built on gotch (libtorch) tensors:
// a Linear and an Embedding that can carry a LoRA adapter, the safetensors format, and the small helpers
// every model shares (name walking, initialisation from a seeded Go RNG, grad-mode control).
//
// Names follow the checkpoints: a layer found at path "h.0.attn.c_attn" owns the tensors
// "h.0.attn.c_attn.weight" and "h.0.attn.c_attn.bias", and its adapter the tensors
// "h.0.attn.c_attn.lora_A.weight" and "h.0.attn.c_attn.lora_B.weight", as PEFT saves them.
//
// Tensor layouts are PyTorch's: a Linear weight is [out, in], a LoRA A is [r, in] and a LoRA B is [out, r].
//
// libtorch keeps grad mode per OS thread, so gotch work must stay on one goroutine locked to its thread;
// see NoGrad.
package nn
