// Package nn holds the layers of the models this module finetunes and their runtime, built on gotch (libtorch)
// tensors: a Linear and an Embedding that can carry a LoRA adapter, LayerNorm, name walking (Modules,
// Parameters), initialisation from a seeded Go RNG, grad-mode control, devices, threads and seeds, and the
// functional pieces the architectures share (attention ops, activations, input checks, position picking).
//
// The architectures live in nn/gpt2, nn/roberta and nn/llama; checkpoint formats (safetensors, Hugging Face
// directories, pytorch_model.bin, GGUF) in nn/weights. This package imports none of them. It states the
// interfaces they share: SequenceClassifier and InputChecker.
//
// Names follow the checkpoints: a layer found at path "h.0.attn.c_attn" owns the tensors
// "h.0.attn.c_attn.weight" and "h.0.attn.c_attn.bias", and its adapter the tensors
// "h.0.attn.c_attn.lora_A.weight" and "h.0.attn.c_attn.lora_B.weight", as PEFT saves them.
//
// Tensor layouts are PyTorch's: a Linear weight is [out, in], a LoRA A is [r, in] and a LoRA B is [out, r];
// attention tensors are [B, H, T, D]; ids and masks [B, T] int64.
//
// libtorch keeps grad mode per OS thread, so gotch work must stay on one goroutine locked to its thread;
// see NoGrad.
package nn
