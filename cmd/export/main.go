// Command export merges a LoRA adapter into its Llama base model and writes the result as a Hugging Face model
// directory or a GGUF file for llama.cpp and ollama:
//
//	go run ./cmd/export -model BASE -adapter ADAPTER_DIR -out OUT -format hf|gguf-f16|gguf-q8_0
//
// BASE is a Hugging Face Llama directory or a Llama GGUF file (as nn/llama.Load reads them); ADAPTER_DIR is a
// PEFT LoRA adapter (adapter_config.json and adapter_model.safetensors, as cmd/llama's checkpoints and PEFT's
// save_pretrained write them); without -adapter the base is converted as it is. The merge is done in fp32.
//
// -format hf writes config.json (LlamaForCausalLM), model.safetensors or, above -max-shard-size, shards with
// model.safetensors.index.json, and the base's tokenizer and generation files when it is a Hugging Face directory.
// -format gguf-f16 and gguf-q8_0 write the llama.* hyperparameters, the base GGUF's tokenizer.* metadata, and the
// tensors under llama.cpp's names with its q/k row permutation; 1-D tensors are F32, matrices F16 or Q8_0 (F16
// for a matrix whose rows are not a multiple of 32 values), as llama.cpp's convert_hf_to_gguf.py writes them.
// The output is built under a temporary name beside OUT and renamed into place; an existing OUT is an error.
// Ctrl-C stops the export at the next tensor, removes the partial output and exits with status 130.
package main

import (
	"io"
	"os"
	"runtime"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
)

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread: all gotch work stays on this goroutine
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	parse := func(args []string) (*options, error) { return parseFlags(args, stderr) }
	return cli.Main("export", args, stderr, parse, func(o *options, st *cli.Stopper) error {
		return export(o, st.Interrupts, stdout, stderr)
	})
}
