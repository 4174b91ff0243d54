package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/loraplus-go/loraplus/cmd/internal/hfconfig"
	"github.com/loraplus-go/loraplus/cmd/internal/modelpath"
	"github.com/loraplus-go/loraplus/llama/instruct"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// options are the command's flags after parsing and checking.
type options struct {
	nproc    int // -nproc: ranks to launch on this machine
	dataFile string
	model    string
	tok      string
	out      string
	device   string
	dtype    string
	threads  int
	resume   string
	skipBad  bool
	limit    int
	cfg      instruct.Config

	warmupRatio float64 // -warmup-ratio: warmup = ceil(ratio · total steps) when -warmup is 0, as HF Trainer
	configFile  string  // -config: YAML or JSON file of PEFT / Hugging Face / LLaMA-Factory keys
	modelErr    error   // why -model (or the default model) was not found; reported when the model is needed
}

// parseFlags reads the command line into the paper's flan-v2 defaults (instruct.DefaultConfig).
// Values that cannot run are errors naming the flag.
func parseFlags(args []string, stderr io.Writer) (_ *options, err error) {
	var file *hfconfig.Applied
	defer func() { err = file.Annotate(err) }() // an error about a value from -config names the file's key
	o := &options{cfg: instruct.DefaultConfig()}
	c := &o.cfg
	fs := flag.NewFlagSet("llama", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: llama -data FILE.jsonl -model PATH [flags]\n\n"+
			"Instruction-tunes a Llama model (Hugging Face directory or GGUF file) on flan-v2-style JSONL with LoRA+\n"+
			"(lr_B = ratio · lr_A), the loss on the target tokens only. Ctrl-C finishes the step in flight, writes a\n"+
			"checkpoint and exits; -resume latest continues.\n\n")
		fs.PrintDefaults()
	}
	var badRows, initName, targets, targetRegex string
	var seed int64
	fs.StringVar(&o.dataFile, "data", "", "JSONL file: {\"inputs\", \"targets\"}, {\"prompt\", \"completion\"} or {\"messages\": [...]} per line")
	fs.StringVar(&o.model, "model", "", "Llama model: Hugging Face directory, GGUF file, or a name (ORG/NAME) found in models/NAME or "+
		"the Hugging Face cache (default: the SmolLM2-135M-Instruct GGUF of the reference environment, when installed)")
	fs.StringVar(&o.tok, "tokenizer", "", "tokenizer directory or GGUF file (default: the model)")
	fs.StringVar(&o.out, "out", "out/llama", "output directory")
	fs.StringVar(&o.device, "device", "auto", "cpu, cuda or auto (cuda when available)")
	fs.IntVar(&o.nproc, "nproc", 0, "data-parallel on this machine: run N processes (1 libtorch thread each unless -threads), as torchrun --nproc-per-node N --no-python does; under torchrun, the variables it sets make this process one rank")
	fs.StringVar(&o.dtype, "dtype", "float32", "base weights' dtype: float32, bfloat16 or float16 (adapters stay float32)")
	fs.IntVar(&o.threads, "threads", 0, "libtorch intra-op threads (0 keeps libtorch's default)")
	fs.Int64Var(&seed, "seed", 42, "seed of shuffling, dropout and adapter init")
	fs.StringVar(&o.resume, "resume", "", "continue from a checkpoint directory, or \"latest\" in -out")
	fs.StringVar(&badRows, "bad-rows", "stop", "malformed JSONL rows: stop (error naming file:line) or skip (count and list them)")
	fs.IntVar(&o.limit, "limit", 0, "use only the first N examples (0: all)")
	fs.Float64Var(&c.Optim.LR, "lr", c.Optim.LR, "lr_A")
	fs.Float64Var(&c.Optim.Ratio, "ratio", c.Optim.Ratio, "LoRA+ ratio lr_B / lr_A (1 is plain LoRA)")
	fs.Float64Var(&c.Optim.LREmbedding, "lr-embedding", c.Optim.LREmbedding, "learning rate of embedding adapters")
	fs.IntVar(&c.LoRA.Rank, "r", c.LoRA.Rank, "LoRA rank")
	fs.Float64Var(&c.LoRA.Alpha, "alpha", c.LoRA.Alpha, "LoRA alpha (scale alpha/r)")
	fs.Float64Var(&c.LoRA.Dropout, "dropout", c.LoRA.Dropout, "LoRA dropout")
	fs.StringVar(&initName, "init", "b-zero", "LoRA init: b-zero (A random, B = 0) or a-zero")
	fs.StringVar(&targets, "targets", strings.Join(instruct.Targets, ","), "comma-separated target modules")
	fs.IntVar(&c.BatchSize, "batch", c.BatchSize, "examples per forward and backward pass")
	fs.IntVar(&c.GradAccum, "grad-accum", 1, "batches whose gradients add up before each optimizer step (a step sees batch × grad-accum examples)")
	fs.IntVar(&c.MaxLen, "max-len", c.MaxLen, "tokens per example; longer examples are truncated")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "epochs")
	fs.IntVar(&c.MaxSteps, "max-steps", 0, "optimizer steps, overriding -epochs (0: use epochs)")
	fs.Float64Var(&c.Optim.Beta1, "beta1", c.Optim.Beta1, "AdamW beta1")
	fs.Float64Var(&c.Optim.Beta2, "beta2", c.Optim.Beta2, "AdamW beta2")
	fs.Float64Var(&c.Optim.Eps, "eps", c.Optim.Eps, "AdamW eps")
	fs.Float64Var(&c.Optim.WeightDecay, "weight-decay", 0, "AdamW decoupled weight decay")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: constant, linear or cosine")
	fs.IntVar(&c.Warmup, "warmup", 0, "warmup steps")
	fs.Float64Var(&c.ClipNorm, "clip", 0, "clip the gradients' global L2 norm to this (0: no clipping)")
	fs.BoolVar(&c.GradCheckpoint, "grad-checkpoint", false, "gradient checkpointing: recompute each layer in the backward pass (less memory for long sequences, slower)")
	fs.IntVar(&c.SaveEvery, "save-every", c.SaveEvery, "checkpoint every N steps (0: only at the end)")
	fs.IntVar(&c.Keep, "keep", c.Keep, "checkpoints to keep (0: all)")
	fs.StringVar(&targetRegex, "target-regex", "", "adapt every module whose full path matches this regex (PEFT's string "+
		"target_modules; replaces the default -targets unless -targets is given too)")
	fs.BoolVar(&c.LoRA.RSLoRA, "rslora", false, "rank-stabilised LoRA: scale alpha/sqrt(r) instead of alpha/r (PEFT's use_rslora)")
	fs.BoolVar(&c.LoRA.DoRA, "dora", false, "DoRA adapters on the seven projections (PEFT's use_dora); the magnitudes train in group B")
	fs.Float64Var(&c.Optim.LRMagnitude, "lr-magnitude", 0, "with -dora, a learning rate of the magnitudes' own (0: group B's lr·ratio, the official grouping)")
	fs.Float64Var(&o.warmupRatio, "warmup-ratio", 0, "warmup as a fraction of the total steps, ceil(ratio · steps), "+
		"when -warmup is 0 (Hugging Face's warmup_ratio)")
	fs.StringVar(&o.configFile, "config", "", "YAML or JSON file of settings by their PEFT / Hugging Face / LLaMA-Factory names "+
		"(learning_rate, lora_r, target_modules, ...); flags on the command line win over the file")
	fs.IntVar(&c.LogEvery, "log-every", 10, "append a line to OUT/log.jsonl and TensorBoard scalars to OUT/runs/ every N steps: loss, learning rates, gradient norm, speed (0: off)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.configFile != "" {
		if file, err = hfconfig.Apply(fs, o.configFile, set); err != nil {
			return nil, fmt.Errorf("-config: %w", err)
		}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	}
	switch {
	case o.dataFile == "":
		return nil, fmt.Errorf("-data: no JSONL file given")
	case seed < 0:
		return nil, fmt.Errorf("-seed must be >= 0, got %d", seed)
	case o.threads < 0 || o.limit < 0:
		return nil, fmt.Errorf("-threads and -limit must be >= 0")
	case o.device != "auto" && o.device != "cpu" && o.device != "cuda":
		return nil, fmt.Errorf("-device: want cpu, cuda or auto, got %q", o.device)
	}
	switch badRows {
	case "stop":
	case "skip":
		o.skipBad = true
	default:
		return nil, fmt.Errorf("-bad-rows: want stop or skip, got %q", badRows)
	}
	if c.LoRA.Init, err = nn.ParseLoRAInit(initName); err != nil {
		return nil, fmt.Errorf("-init: %w", err)
	}
	c.LoRA.Targets, c.LoRA.TargetRegex = nil, targetRegex
	if targetRegex != "" && !set["targets"] {
		targets = "" // the regex replaces the default targets
	}
	for _, t := range strings.Split(targets, ",") {
		if t = strings.TrimSpace(t); t == "" && targets != "" {
			return nil, fmt.Errorf("-targets: empty name in %q", targets)
		} else if t != "" {
			c.LoRA.Targets = append(c.LoRA.Targets, t)
		}
	}
	def := modelpath.SmolLM2() // the default model: the reference environment's SmolLM2 GGUF, when installed
	if path, err := modelpath.ForFlag(o.model, def, os.Getenv); err != nil {
		o.modelErr = err // reported when the model is needed
	} else {
		o.model = path
	}
	c.Seed, c.LoRA.Seed = uint64(seed), uint64(seed)
	c.Out, c.Resume, c.BaseModel, c.DataName = o.out, o.resume, o.model, o.dataFile
	if o.tok == "" {
		o.tok = o.model
	}
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case !(c.Optim.LR > 0) || bad(c.Optim.LR):
		return nil, fmt.Errorf("-lr must be > 0, got %v", c.Optim.LR)
	case !(c.Optim.Ratio > 0) || bad(c.Optim.Ratio):
		return nil, fmt.Errorf("-ratio must be > 0, got %v", c.Optim.Ratio)
	case !(c.LoRA.Dropout >= 0 && c.LoRA.Dropout < 1):
		return nil, fmt.Errorf("-dropout must be in [0, 1), got %v", c.LoRA.Dropout)
	case c.MaxLen < 2:
		return nil, fmt.Errorf("-max-len must be >= 2, got %d", c.MaxLen)
	case !(o.warmupRatio >= 0 && o.warmupRatio <= 1):
		return nil, fmt.Errorf("-warmup-ratio must be in [0, 1], got %v", o.warmupRatio)
	}
	if _, err := nn.ParseDType(o.dtype); err != nil {
		return nil, err
	}
	if _, err := loraplus.ParseSchedule(c.Schedule, c.Warmup, 1); err != nil {
		return nil, fmt.Errorf("-schedule: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}
