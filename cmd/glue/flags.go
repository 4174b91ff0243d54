package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/loraplus-go/loraplus/cmd/internal/hfconfig"
	"github.com/loraplus-go/loraplus/cmd/internal/modelpath"
	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// defaultModel is the model of the paper's GLUE runs, used when -model is not given and it is found locally
// (models/gpt2 or the Hugging Face cache).
const defaultModel = "gpt2"

// options are the command's flags after parsing and checking.
type options struct {
	nproc     int // -nproc: ranks to launch on this machine
	task      glue.Task
	modelDir  string
	tokDir    string
	dataDir   string
	out       string
	device    string
	dtype     string // base weights' dtype; adapters, head and optimizer state stay float32
	threads   int
	seed      uint64
	resume    string
	badRows   glue.Policy
	limTrain  int
	limEval   int
	lr        float64 // 0: chosen by model type
	ratio     float64
	lrEmb     float64
	rank      int
	alpha     float64
	dropout   float64
	init      nn.LoRAInit
	targets   []string // nil: chosen by model type
	frozen    []string // head tensors kept frozen; nil: the model type's default (frozenHeadAuto)
	batch     int
	evalBatch int
	maxLen    int
	padLong   bool
	epochs    int // 0: the task's default
	maxSteps  int
	beta1     float64
	beta2     float64
	eps       float64
	gradAccum int
	gradCkpt  bool
	wd        float64
	schedule  string
	warmup    int
	clip      float64
	evalEvery int
	logEvery  int
	saveEvery int
	keep      int

	sweepA, sweepB []float64 // -sweep: lr_A and lr_B values
	sweepGrid      bool      // -sweep-grid: lr_A = lr·2^k (k = -2..2), lr_B = lr·2^k (k = -2..6)
	compare        bool
	seeds          []uint64 // -seeds: -compare trains each arm once per seed
	loraLR         float64  // -lora-lr: the LoRA arm's learning rate in -compare (0: -lr)

	targetRegex string  // -target-regex: PEFT's string target_modules, a full-match regex of module paths
	rslora      bool    // -rslora: scale alpha/sqrt(r) (PEFT's use_rslora)
	dora        bool    // -dora: DoRA adapters (PEFT's use_dora)
	lrMag       float64 // -lr-magnitude: the DoRA magnitudes' own learning rate (0: group B's)
	warmupRatio float64 // -warmup-ratio: warmup = ceil(ratio · total steps) when -warmup is 0, as HF Trainer
	configFile  string  // -config: YAML or JSON file of PEFT / Hugging Face / LLaMA-Factory keys

	adapter     string // -adapter: a saved adapter (PEFT layout) to load onto the model for -eval-only / -predict
	evalOnly    bool   // -eval-only: evaluate on the dev split(s) without training
	predict     string // -predict: a GLUE test TSV (no labels) to write predictions for, without training
	predictFile string // -predict-out: where the predictions go

	modelErr error // why -model (or the default model) was not found; reported when the model is needed

	set map[string]bool // flags given on the command line or set by -config
}

// parseFlags reads the command line. Values that cannot run are errors naming the flag.
func parseFlags(args []string, stderr io.Writer) (_ *options, err error) {
	var file *hfconfig.Applied
	defer func() { err = file.Annotate(err) }() // an error about a value from -config names the file's key
	o := &options{}
	fs := flag.NewFlagSet("glue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: glue -task mnli -model DIR -data DIR [flags]\n\n"+
			"Finetunes a GPT-2, RoBERTa or Llama sequence classifier on a GLUE task with LoRA+ (lr_B = ratio · lr_A).\n"+
			"Interrupt with Ctrl-C: the step in flight finishes, a checkpoint is written, and -resume latest continues.\n\n")
		fs.PrintDefaults()
	}
	var taskName, badRows, initName, targets, frozen, sweep string
	var seed int64
	fs.StringVar(&taskName, "task", "mnli", "GLUE task: "+strings.Join(glue.TaskNames(), ", "))
	fs.StringVar(&o.modelDir, "model", "", "Hugging Face model directory (GPT-2, RoBERTa or Llama: config.json and weights), a Llama GGUF file, "+
		"or a model name (gpt2, roberta-base, ORG/NAME) found in models/NAME or the Hugging Face cache (default gpt2 when found)")
	fs.StringVar(&o.tokDir, "tokenizer", "", "tokenizer directory or GGUF file (default: the model)")
	fs.StringVar(&o.dataDir, "data", "data/glue", "GLUE root (holding MNLI/, QQP/, ...) or the task directory itself")
	fs.StringVar(&o.out, "out", "", "output directory (default out/glue/TASK)")
	fs.StringVar(&o.device, "device", "auto", "cpu, cuda or auto (cuda when available)")
	fs.IntVar(&o.nproc, "nproc", 0, "data-parallel on this machine: run N processes (1 libtorch thread each unless -threads), as torchrun --nproc-per-node N --no-python does; under torchrun, the variables it sets make this process one rank")
	fs.StringVar(&o.dtype, "dtype", "float32", "frozen base weights' dtype: float32, bfloat16 or float16 (LoRA adapters, head and "+
		"optimizer state stay float32; float16 needs CUDA)")
	fs.IntVar(&o.threads, "threads", 0, "libtorch intra-op threads (0 keeps libtorch's default)")
	fs.Int64Var(&seed, "seed", 42, "seed of shuffling, adapter init and a new head")
	fs.StringVar(&o.resume, "resume", "", "continue from a checkpoint directory, or \"latest\" in -out (with -sweep or -compare: "+
		"\"latest\" continues every run from its newest checkpoint; finished runs are not trained again)")
	fs.StringVar(&badRows, "bad-rows", "stop", "malformed data rows: stop (error naming file:line) or skip (count and list them)")
	fs.IntVar(&o.limTrain, "limit-train", 0, "use only the first N training examples (0: all)")
	fs.IntVar(&o.limEval, "limit-eval", 0, "use only the first N examples of each dev split (0: all)")
	fs.Float64Var(&o.lr, "lr", 0, "lr_A (default 2e-4 for GPT-2, 5e-5 for RoBERTa, as the authors' scripts; 1e-4 for Llama, as the paper)")
	fs.Float64Var(&o.ratio, "ratio", 16, "LoRA+ ratio lr_B / lr_A (1 is plain LoRA)")
	fs.Float64Var(&o.lrEmb, "lr-embedding", 1e-6, "learning rate of embedding adapters")
	fs.IntVar(&o.rank, "r", 8, "LoRA rank")
	fs.Float64Var(&o.alpha, "alpha", 8, "LoRA alpha (scale alpha/r; Llama default 16)")
	fs.Float64Var(&o.dropout, "dropout", 0.1, "LoRA dropout")
	fs.StringVar(&initName, "init", "b-zero", "LoRA init: b-zero (A random, B = 0) or a-zero (A = 0, B random; the authors' code)")
	fs.StringVar(&targets, "targets", "", "comma-separated target modules (default c_attn,c_proj,c_fc for GPT-2, query,value for RoBERTa, the seven projections for Llama)")
	fs.StringVar(&frozen, "freeze-head", frozenHeadAuto, "comma-separated head tensors to keep frozen, \"none\" to train the whole head, "+
		"or \"auto\": the authors' setup, classifier.dense.weight,classifier.dense.bias frozen for RoBERTa (their run_glue.py), "+
		"nothing frozen for GPT-2 and Llama")
	fs.IntVar(&o.batch, "batch", 32, "examples per forward and backward pass")
	fs.IntVar(&o.gradAccum, "grad-accum", 1, "batches whose gradients add up before each optimizer step (a step sees batch × grad-accum examples)")
	fs.BoolVar(&o.gradCkpt, "grad-checkpoint", false, "gradient checkpointing (Llama models): recompute each layer in the backward pass "+
		"(less activation memory, about one more forward pass of compute)")
	fs.IntVar(&o.evalBatch, "eval-batch", 0, "evaluation batch size (0: -batch)")
	fs.IntVar(&o.maxLen, "max-len", 128, "tokens per example; longer examples are truncated")
	fs.BoolVar(&o.padLong, "pad-longest", false, "pad each batch to its longest example instead of -max-len (faster; same logits)")
	fs.IntVar(&o.epochs, "epochs", 0, "epochs (default 3; 10 for SST-2; 1 for Llama)")
	fs.IntVar(&o.maxSteps, "max-steps", 0, "optimizer steps, overriding -epochs (0: use epochs)")
	fs.Float64Var(&o.beta1, "beta1", 0.9, "AdamW beta1")
	fs.Float64Var(&o.beta2, "beta2", 0.99, "AdamW beta2 (Llama default 0.999)")
	fs.Float64Var(&o.eps, "eps", 1e-8, "AdamW eps (1e-6 for Llama, as the paper)")
	fs.Float64Var(&o.wd, "weight-decay", 0, "AdamW decoupled weight decay")
	fs.StringVar(&o.schedule, "schedule", "linear", "learning-rate schedule: linear, constant or cosine (Llama default constant)")
	fs.IntVar(&o.warmup, "warmup", 0, "warmup steps")
	fs.Float64Var(&o.clip, "clip", 1, "clip the gradients' global L2 norm to this, as Hugging Face Trainer's max_grad_norm, 1 in "+
		"the authors' GLUE scripts (0: no clipping)")
	fs.IntVar(&o.evalEvery, "eval-every", 500, "evaluate every N steps (0: only at the end)")
	fs.IntVar(&o.saveEvery, "save-every", 500, "checkpoint every N steps (0: only at the end)")
	fs.IntVar(&o.keep, "keep", 2, "checkpoints to keep (0: all)")
	fs.IntVar(&o.logEvery, "log-every", 10, "append a line to OUT/log.jsonl and TensorBoard scalars to OUT/runs/ every N steps: loss, learning rates, gradient norm, speed (0: off)")
	fs.StringVar(&sweep, "sweep", "", "train every cell of an (lr_A, lr_B) grid, \"lrA1,lrA2,...:lrB1,lrB2,...\", and draw the heatmap of the main dev metric (e.g. eval_accuracy)")
	fs.BoolVar(&o.sweepGrid, "sweep-grid", false, "sweep the default grid: lr_A = lr·2^k (k = -2..2), lr_B = lr·2^k (k = -2..6)")
	fs.BoolVar(&o.compare, "compare", false, "train ratio 1 (LoRA) and -ratio (LoRA+) and draw the main dev metric over steps")
	var seeds string
	fs.StringVar(&seeds, "seeds", "", "with -compare, train each arm once per seed of this comma-separated list and report the mean "+
		"± standard deviation, the difference with its standard error, and the steps LoRA+ needs to reach LoRA's final mean")
	fs.Float64Var(&o.loraLR, "lora-lr", 0, "with -compare, the LoRA arm's learning rate (lr_A = lr_B), e.g. its own best from a -sweep "+
		"(0: -lr, the same lr_A as LoRA+)")
	fs.StringVar(&o.targetRegex, "target-regex", "", "adapt every module whose full path matches this regex (PEFT's string "+
		"target_modules; with -targets, modules matching either are adapted)")
	fs.BoolVar(&o.rslora, "rslora", false, "rank-stabilised LoRA: scale alpha/sqrt(r) instead of alpha/r (PEFT's use_rslora)")
	fs.BoolVar(&o.dora, "dora", false, "DoRA adapters on the Linear targets (PEFT's use_dora); the magnitudes train in group B")
	fs.Float64Var(&o.lrMag, "lr-magnitude", 0, "with -dora, a learning rate of the magnitudes' own (0: group B's lr·ratio, the official grouping)")
	fs.Float64Var(&o.warmupRatio, "warmup-ratio", 0, "warmup as a fraction of the total steps, ceil(ratio · steps), "+
		"when -warmup is 0 (Hugging Face's warmup_ratio)")
	fs.StringVar(&o.adapter, "adapter", "", "adapter directory (adapter_config.json and adapter_model.safetensors, saved here "+
		"as OUT/checkpoint-STEP or by PEFT's save_pretrained, the head as modules_to_save) to load for -eval-only or -predict")
	fs.BoolVar(&o.evalOnly, "eval-only", false, "evaluate the model (with -adapter) on the dev split(s) without training; "+
		"the metrics go to OUT/"+EvalResultsFile)
	fs.StringVar(&o.predict, "predict", "", "GLUE test TSV (the test split's layout, no labels) to predict without training, "+
		"written in GLUE's submission format (index<TAB>prediction)")
	fs.StringVar(&o.predictFile, "predict-out", "", "predictions file (default OUT/predict_results_<-predict's file name>)")
	fs.StringVar(&o.configFile, "config", "", "YAML or JSON file of settings by their PEFT / Hugging Face / LLaMA-Factory names "+
		"(learning_rate, lora_r, target_modules, ...); flags on the command line win over the file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.configFile != "" {
		if file, err = hfconfig.Apply(fs, o.configFile, o.set); err != nil {
			return nil, fmt.Errorf("-config: %w", err)
		}
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true }) // the file's settings count as the user's choice
	}
	if o.task, err = glue.TaskByName(taskName); err != nil {
		return nil, fmt.Errorf("-task: %w", err)
	}
	switch badRows {
	case "stop":
		o.badRows = glue.StopAtFirstError
	case "skip":
		o.badRows = glue.SkipBadRows
	default:
		return nil, fmt.Errorf("-bad-rows: want stop or skip, got %q", badRows)
	}
	if o.init, err = nn.ParseLoRAInit(initName); err != nil {
		return nil, fmt.Errorf("-init: %w", err)
	}
	if o.targets, err = splitList("-targets", targets); err != nil {
		return nil, err
	}
	switch frozen {
	case frozenHeadAuto:
		o.frozen = nil
	case "none":
		o.frozen = []string{}
	default:
		if o.frozen, err = splitList("-freeze-head", frozen); err != nil {
			return nil, err
		}
	}
	if seed < 0 {
		return nil, fmt.Errorf("-seed must be >= 0, got %d", seed)
	}
	o.seed = uint64(seed)
	if o.out == "" {
		o.out = "out/glue/" + o.task.Name
	}
	if dir, err := modelpath.ForFlag(o.modelDir, defaultModel, os.Getenv); err != nil {
		o.modelErr = err // reported when the model is needed: flag checks and -h work without one
	} else {
		o.modelDir = dir
	}
	if k, err := detectKind(o.modelDir); err == nil && k.name == llamaKind.name {
		o.applyLlamaDefaults() // before the task's epochs
	}
	if o.epochs == 0 {
		o.epochs = 3
		if o.task.Name == "sst-2" {
			o.epochs = 10
		}
	}
	if _, err := nn.ParseDType(o.dtype); err != nil {
		return nil, err
	}
	if o.device != "auto" && o.device != "cpu" && o.device != "cuda" {
		return nil, fmt.Errorf("-device: want cpu, cuda or auto, got %q", o.device)
	}
	if sweep != "" && o.sweepGrid {
		return nil, fmt.Errorf("-sweep and -sweep-grid exclude each other")
	}
	if sweep != "" {
		if o.sweepA, o.sweepB, err = parseSweep(sweep); err != nil {
			return nil, fmt.Errorf("-sweep: %w", err)
		}
	}
	sweeping := o.sweepA != nil || o.sweepGrid
	if o.compare && sweeping {
		return nil, fmt.Errorf("-compare and -sweep exclude each other")
	}
	if seeds != "" {
		if o.seeds, err = parseSeeds(seeds); err != nil {
			return nil, fmt.Errorf("-seeds: %w", err)
		}
	}
	if (o.seeds != nil || o.loraLR != 0) && !o.compare {
		return nil, fmt.Errorf("-seeds and -lora-lr are settings of -compare: add -compare")
	}
	if o.loraLR < 0 || math.IsNaN(o.loraLR) || math.IsInf(o.loraLR, 0) {
		return nil, fmt.Errorf("-lora-lr must be > 0, got %v", o.loraLR)
	}
	if o.compare && o.ratio == 1 {
		return nil, fmt.Errorf("-compare runs ratio 1 against -ratio: set -ratio to another value than 1")
	}
	if (o.compare || sweeping) && o.resume != "" && o.resume != "latest" {
		return nil, fmt.Errorf("-resume with -sweep or -compare takes only \"latest\" (each run resumes from its newest checkpoint), got %q", o.resume)
	}
	if o.adapter != "" && !o.evalOnly && o.predict == "" {
		return nil, fmt.Errorf("-adapter is read by -eval-only and -predict: add one of them (training starts from a new adapter)")
	}
	if (o.evalOnly || o.predict != "") && (o.compare || sweeping || o.resume != "") {
		return nil, fmt.Errorf("-eval-only and -predict do not train: drop -sweep, -sweep-grid, -compare and -resume")
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// check validates numeric flags, naming the flag; the glue and loraplus packages check the rest again.
func (o *options) check() error {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case o.lr < 0 || bad(o.lr):
		return fmt.Errorf("-lr must be > 0, got %v", o.lr)
	case o.ratio <= 0 || bad(o.ratio):
		return fmt.Errorf("-ratio must be > 0, got %v", o.ratio)
	case o.lrMag < 0 || bad(o.lrMag):
		return fmt.Errorf("-lr-magnitude must be >= 0, got %v", o.lrMag)
	case o.lrEmb < 0 || bad(o.lrEmb):
		return fmt.Errorf("-lr-embedding must be >= 0, got %v", o.lrEmb)
	case o.rank <= 0:
		return fmt.Errorf("-r must be > 0, got %d", o.rank)
	case o.alpha <= 0 || bad(o.alpha):
		return fmt.Errorf("-alpha must be > 0, got %v", o.alpha)
	case !(o.dropout >= 0 && o.dropout < 1):
		return fmt.Errorf("-dropout must be in [0, 1), got %v", o.dropout)
	case o.batch <= 0:
		return fmt.Errorf("-batch must be > 0, got %d", o.batch)
	case o.gradAccum <= 0:
		return fmt.Errorf("-grad-accum must be > 0, got %d", o.gradAccum)
	case o.evalBatch < 0:
		return fmt.Errorf("-eval-batch must be >= 0, got %d", o.evalBatch)
	case o.maxLen <= 1:
		return fmt.Errorf("-max-len must be > 1, got %d", o.maxLen)
	case o.epochs < 0:
		return fmt.Errorf("-epochs must be > 0, got %d", o.epochs)
	case o.maxSteps < 0:
		return fmt.Errorf("-max-steps must be >= 0, got %d", o.maxSteps)
	case !(o.beta1 >= 0 && o.beta1 < 1):
		return fmt.Errorf("-beta1 must be in [0, 1), got %v", o.beta1)
	case !(o.beta2 >= 0 && o.beta2 < 1):
		return fmt.Errorf("-beta2 must be in [0, 1), got %v", o.beta2)
	case o.eps <= 0 || bad(o.eps):
		return fmt.Errorf("-eps must be > 0, got %v", o.eps)
	case o.wd < 0 || bad(o.wd):
		return fmt.Errorf("-weight-decay must be >= 0, got %v", o.wd)
	case o.warmup < 0:
		return fmt.Errorf("-warmup must be >= 0, got %d", o.warmup)
	case !(o.warmupRatio >= 0 && o.warmupRatio <= 1):
		return fmt.Errorf("-warmup-ratio must be in [0, 1], got %v", o.warmupRatio)
	case o.clip < 0 || bad(o.clip):
		return fmt.Errorf("-clip must be >= 0, got %v", o.clip)
	case o.evalEvery < 0 || o.saveEvery < 0 || o.keep < 0:
		return fmt.Errorf("-eval-every, -save-every and -keep must be >= 0")
	case o.threads < 0:
		return fmt.Errorf("-threads must be >= 0, got %d", o.threads)
	case o.limTrain < 0 || o.limEval < 0:
		return fmt.Errorf("-limit-train and -limit-eval must be >= 0")
	}
	if _, err := loraplus.ParseSchedule(o.schedule, o.warmup, 1); err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	return nil
}

// parseSweep reads "lrA1,lrA2,...:lrB1,lrB2,..." into two increasing lists of positive rates.
func parseSweep(s string) ([]float64, []float64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("want \"lrA1,lrA2,...:lrB1,lrB2,...\", got %q", s)
	}
	var out [2][]float64
	for i, p := range parts {
		for _, f := range strings.Split(p, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("bad learning rate %q in %q", f, s)
			}
			if n := len(out[i]); n > 0 && v <= out[i][n-1] {
				return nil, nil, fmt.Errorf("learning rates must increase: %g after %g in %q", v, out[i][n-1], s)
			}
			out[i] = append(out[i], v)
		}
	}
	return out[0], out[1], nil
}

// parseSeeds reads a comma-separated list of distinct seeds ≥ 0.
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad seed %q in %q: want integers >= 0", f, s)
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("seed %d twice in %q", v, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// splitList reads a comma-separated list of names; "" is an empty list.
func splitList(flagName, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t == "" {
			return nil, fmt.Errorf("%s: empty name in %q", flagName, s)
		}
		out = append(out, t)
	}
	return out, nil
}
