// Package gguf reads GGUF model files, the format written by llama.cpp's
// converters and used by ollama.
//
// A GGUF file (versions 2 and 3, little-endian) holds a header, typed
// key/value metadata, a table of tensor descriptions and an aligned data
// section. [Open] parses everything up to the data section and keeps the file
// open; tensor data is read on demand with ReadAt, so opening a multi-gigabyte
// model costs only the size of its metadata.
//
// # Shapes
//
// GGUF stores each tensor's dimensions in ggml order: ne[0] is the
// fastest-varying (contiguous) axis. [TensorInfo.Dims] keeps that order.
// [TensorInfo.Shape] reverses it into the row-major order of PyTorch and
// NumPy, so a Hugging Face Linear weight of shape [out_features, in_features]
// has Dims = [in_features, out_features] and Shape() = [out_features,
// in_features]. Every []float32 returned by this package is row-major in
// Shape() order. Quantization blocks always run along ne[0], the last axis of
// Shape(), so ne[0] must be a multiple of the type's block size.
//
// # Dequantization
//
// [File.Float32] and [Dequantize] convert F32, F16, BF16, Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K data to float32 with the
// same arithmetic as ggml's reference dequantize_row_* functions. Other types
// (the IQ family, integer tensors) can be opened and read raw with
// [File.ReadRaw] but not dequantized. [File.ReadRaw] also gives F16 and BF16
// tensors as raw little-endian 16-bit values for callers that load them
// without a float32 copy.
//
// # Llama models
//
// [File.LlamaParams] reads the llama.* hyperparameters and the tokenizer
// stored in tokenizer.ggml.*. [HFName] maps llama.cpp tensor names to Hugging
// Face Llama parameter names, and [File.HFTensors] / [File.ReadHFFloat32]
// return tensors in Hugging Face layout: llama.cpp's converter permutes the
// rows of q_proj and k_proj for its rotary-embedding layout, and these
// functions undo that permutation (see [UnpermuteRows]).
package gguf
