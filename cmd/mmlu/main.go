// Command mmlu scores a Llama model (a Hugging Face directory or a GGUF file, optionally with a PEFT LoRA adapter)
// on MMLU with the Hendrycks k-shot protocol:
//
//	go run ./cmd/mmlu -model PATH [-adapter DIR] -data ../shared/data/mmlu -shots 5
//
// Each prompt is the header "The following are multiple choice questions (with answers) about SUBJECT.", the
// subject's first k dev rows with their answers, and the question ending in "Answer:"; shots are dropped from the
// end while the prompt exceeds -max-len tokens. The prediction is the choice whose token (the last id of " A",
// " B", " C", " D" encoded without special tokens) has the largest next-token logit at the prompt's last token.
// Per-subject, subcategory, category and averaged accuracies (micro over questions, macro over subjects) are
// printed as a table and written as JSON to -out.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, cli.Message("mmlu", err))
		os.Exit(cli.ExitError)
	}
}

// run parses args, evaluates and reports: the table on stdout, progress and notes on stderr.
func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	return evaluate(o, stdout, stderr)
}
