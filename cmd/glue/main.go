// Command glue finetunes a sequence classifier (GPT-2 or RoBERTa from a Hugging Face folder, a Llama-family model
// from a Hugging Face folder or a GGUF file) on a GLUE task (CoLA, MNLI, MRPC, QNLI, QQP, RTE, SST-2, STS-B with a
// one-output regression head, WNLI) with LoRA+, the settings of the LoRA+ paper's GLUE experiments as defaults:
//
//	go run ./cmd/glue -task mnli -model DIR -data DIR -ratio 16
//
// It prints the optimizer plan (which tensor trains at which learning rate), shows a progress bar, evaluates
// on the dev split(s) every -eval-every steps and at the end, and writes under -out: checkpoint-STEP/ (PEFT
// adapter with the head, optimizer state, trainer state), history.jsonl (one line per evaluation) and
// metrics.json, the metrics named as Hugging Face's run_glue.py writes them (eval_accuracy, eval_accuracy_mm,
// eval_f1, eval_combined_score, eval_matthews_correlation, eval_pearson, eval_spearmanr). Ctrl-C finishes the step in flight, writes a checkpoint and exits with status 130; -resume
// latest continues the run exactly where it stopped.
//
// -adapter DIR -eval-only scores a saved adapter (this command's checkpoint-STEP/ or PEFT's save_pretrained) on
// the dev split(s) without training, and -predict FILE writes predictions for a GLUE test file in GLUE's
// submission format (index<TAB>prediction).
//
// -sweep "lrA1,...:lrB1,..." (or -sweep-grid) trains every (lr_A, lr_B) cell and draws the heatmap of the
// main dev metric (the paper's Figures 3-4); -compare trains ratio 1 against -ratio and draws it over steps
// (Figure 7), at LoRA's own learning rate with -lora-lr and over several seeds with -seeds (mean ± standard
// deviation, the difference with its standard error, and the step at which LoRA+ reaches LoRA's final mean).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/nn"
)

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread: all gotch work stays on this goroutine
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	parse := func(args []string) (*options, error) { return parseFlags(args, stderr) }
	return cli.Main("glue", args, stderr, parse, func(o *options, st *cli.Stopper) error {
		if o.nproc > 1 {
			return cli.Launch(o.nproc, args, stdout, stderr)
		}
		return dispatch(o, st, stdout, stderr)
	})
}

func dispatch(o *options, st *cli.Stopper, stdout, stderr io.Writer) error {
	grp, err := cli.JoinDist(o.device)
	if err != nil {
		return err
	}
	if grp != nil {
		defer grp.Close()
		if o.evalOnly || o.predict != "" || o.sweepA != nil || o.sweepGrid || o.compare {
			return fmt.Errorf("a data-parallel run (WORLD_SIZE %d) trains one run: -eval-only, -predict, -sweep and -compare run in one process", grp.WorldSize)
		}
		if !grp.IsMain() {
			stdout = io.Discard // rank 0 reports
		}
		if o.threads == 0 && !o.set["threads"] {
			o.threads = 1 // the ranks share the cores
		}
	}
	if o.threads > 0 {
		if err := nn.SetNumThreads(o.threads); err != nil {
			return err
		}
	}
	if o.evalOnly || o.predict != "" {
		return evaluate(o, stdout, stderr)
	}
	s, err := newSession(o, stdout, stderr)
	if err != nil {
		return err
	}
	s.dist = grp
	switch {
	case o.sweepA != nil || o.sweepGrid:
		return runSweep(s, st)
	case o.compare:
		return runCompare(s, st)
	}
	_, err = s.train(st, s.lr, o.ratio, o.out, o.resume, true)
	return err
}
