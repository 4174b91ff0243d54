// Package loraplus finetunes gotch (libtorch) models with LoRA+ (Hayou, Ghosh, Yu, 2024): low-rank adapters whose
// B factors learn faster than their A factors, lr_B = ratio · lr_A.
//
// Wrap attaches adapters to the target layers of a model, found by name as PEFT's target_modules are.
// NewAdamW builds an AdamW whose parameter groups follow the official LoRA+ rule:
//
//	group        tensors                                              lr              weight decay
//	A            lora_A and every other trainable tensor of rank ≥ 2   lr              wd
//	embedding    lora_embedding_A and lora_embedding_B                lr_embedding    wd
//	B            lora_B and every trainable 1-D tensor                 lr · ratio      wd
//	B_no_decay   the B-group tensors that are biases or norm weights   lr · ratio      0
//
// With Config.DoRA (PEFT's use_dora) each adapted Linear also trains a magnitude vector (lora_magnitude_vector,
// 1-D, so in group B by the rule above); OptimConfig.LRMagnitude > 0 moves the magnitudes to a fifth group,
// dora_magnitude, at that rate. Empty groups are not created. One schedule factor multiplies every group's learning rate, so the ratio holds
// through warmup and decay. Plan prints which tensor went where; SaveAdapter writes PEFT's adapter format with
// the LoRA+ settings beside it. A whole training run on a task (data order, schedule, evaluation, checkpoints,
// resume) is package loraplus/train, which builds on this one.
//
// All gotch work must run on one goroutine locked to its OS thread (runtime.LockOSThread), because libtorch keeps
// grad mode and gotch keeps its error slot per thread.
package loraplus
