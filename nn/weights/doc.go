// Package weights reads and writes checkpoint files and hands their tensors to models.
//
// Every format is a Source (names, shapes, dtypes, tensors loaded one at a time on the CPU):
//
//   - Safetensors: one .safetensors file (OpenSafetensors, ReadSafetensors; WriteSafetensors writes one).
//   - Dir: a Hugging Face model directory as save_pretrained writes it: config.json (ReadHFConfig, HFConfig)
//     with model.safetensors, sharded safetensors listed in model.safetensors.index.json, pytorch_model.bin, or
//     sharded .bin files (transformers' order of preference).
//   - GGUF: a Llama GGUF file (package gguf parses it), with llama.cpp names mapped to Hugging Face ones and
//     every tensor dequantized to fp32.
//
// LoadState copies a Source into a model whose tensors nn.Parameters names, converting dtype and device tensor
// by tensor; LoadWithHead does the same for a classifier whose head may be absent from the checkpoint.
//
// Shapes are PyTorch's, row-major: a Linear weight is [out_features, in_features], an embedding table
// [vocab, hidden], a GPT-2 Conv1D weight [in_features, out_features]. GGUF shapes are reversed from ggml's
// order on the way in.
//
// WriteFileAtomic is the module's one durable file write: a temporary file in the same directory, synced and
// renamed into place, so a crash never leaves a partial file under the final name.
//
// Errors start with "weights: " and name the file and, where there is one, the tensor.
package weights
