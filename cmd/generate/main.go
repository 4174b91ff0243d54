// Command generate continues text with a Llama model (a Hugging Face directory or a GGUF file, optionally with a
// LoRA adapter trained by cmd/llama or saved by PEFT), so that a user can see what a finetune changed:
//
//	go run ./cmd/generate -model PATH [-adapter DIR [-compare-base]] -prompt "What is LoRA?"
//
// Without -prompt every line of standard input is a prompt of its own. A prompt is wrapped in the model's chat
// template (GGUF tokenizer.chat_template, chat_template.jinja or tokenizer_config.json) when the model has one
// (-chat auto), with -system as the system message. Decoding is greedy unless -temperature is above 0; -top-k,
// -top-p and -repetition-penalty are transformers' processors, and a Hugging Face directory's
// generation_config.json supplies the defaults of the flags not given, as generate does. Generation ends at the
// model's end-of-sequence or end-of-turn token, or after -max-new-tokens. Text streams to stdout as it comes;
// speed and the finish reason go to stderr. With -compare-base every prompt is answered by the base model first,
// then with the adapter. Ctrl-C stops the answer in progress and exits with status 130.
package main

import (
	"context"
	"io"
	"os"
	"runtime"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
)

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread: all gotch work stays on this goroutine
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command and returns its exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	parse := func(args []string) (*options, error) { return parseFlags(args, stderr) }
	return cli.MainContext("generate", args, stderr, parse, func(ctx context.Context, o *options) error {
		return generateAll(ctx, o, stdin, stdout, stderr)
	})
}
