package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RowPlan is one row to run: its workload settings and how to describe it.
type RowPlan struct {
	Name     string
	Title    string // the row's shapes, e.g. "B=4 T=128, 1+2 steps"
	Workload string // what the row runs
	Unit     string
	Opts     WorkerOptions
	Skip     string // a reason not to run it, found before any run
}

// quickDefaults are the settings -quick changes, for the flags the user did not set.
var quickDefaults = map[string]string{
	"runs": "2", "cls-batch": "2", "cls-seq": "64", "llama-batch": "2", "llama-seq": "64",
	"warmup": "1", "steps": "1", "prompts": "4",
}

// bigDefaults are the settings -7b changes, for the flags the user did not set: the two 7B rows take minutes
// per step on a CPU.
var bigDefaults = map[string]string{
	"rows": "llama7b-cls,llama7b-lm", "dtype": "bfloat16", "runs": "1", "warmup": "1", "steps": "2", "timeout": "3600",
}

// rowTitles describe each row's workload.
var rowTitles = map[string]string{
	"gpt2": "GPT2ForSequenceClassification, GPT-2-small shape (12 layers, hidden 768, 12 heads, vocab 50257), random " +
		"weights, dropout 0, LoRA r=8 on c_attn/c_proj/c_fc, score trained, LoRA+ AdamW, clip 1; training",
	"roberta": "RobertaForSequenceClassification, roberta-base shape (12 layers, hidden 768, 12 heads, vocab 50265), " +
		"random weights, dropout 0, LoRA r=8 on query/value, classifier trained, LoRA+ AdamW, clip 1; training",
	"smollm2": "LlamaForCausalLM, SmolLM2-135M-Instruct from its GGUF file (Q4_1 dequantized to fp32), LoRA r=8 on " +
		"q/k/v/o/gate/up/down, causal-LM loss on random ids, LoRA+ AdamW, clip 1; training",
	"mmlu": "SmolLM2-135M-Instruct (GGUF → fp32), no adapters, no grad: MMLU val prompts (first question of the " +
		"first subjects), one at a time, logits of \" A\"/\" B\"/\" C\"/\" D\" at the last token; evaluation",
	"llama7b-cls": "LlamaForSequenceClassification (3 labels, MNLI's), Llama-2-7B shape (32 layers, hidden 4096, 32 heads, " +
		"MLP 11008, vocab 32000) from a sharded safetensors checkpoint of random weights (scripts/make_llama7b.py), " +
		"LoRA r=16 alpha 32 on q/k/v/o/gate/up/down, score trained, gradient checkpointing, SDPA, LoRA+ AdamW, clip 1; training",
	"llama7b-lm": "LlamaForCausalLM, the same Llama-2-7B-shaped checkpoint, LoRA r=16 alpha 32 on the seven projections, " +
		"causal-LM loss on random ids (cmd/llama's objective), gradient checkpointing, SDPA, LoRA+ AdamW, clip 1; training",
}

// Plan turns the options into the rows to run. Unknown row names are an error.
func (o *options) Plan() ([]RowPlan, error) {
	var out []RowPlan
	for _, name := range strings.Split(o.rows, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		workload, ok := rowTitles[name]
		if !ok {
			return nil, fmt.Errorf("unknown row %q (rows: gpt2, roberta, smollm2, mmlu, llama7b-cls, llama7b-lm)", name)
		}
		p := RowPlan{Name: name, Workload: workload, Unit: "tokens",
			Opts: WorkerOptions{Row: name, Warmup: o.warmup, Steps: o.steps, Threads: o.threads, GGUF: o.gguf,
				Device: o.device, DType: o.dtype}}
		switch name {
		case "llama7b-cls", "llama7b-lm":
			p.Opts.Batch, p.Opts.Seq, p.Opts.Model, p.Opts.GradCkpt = o.batch7b, o.seq7b, o.llama7b, true
			if _, err := os.Stat(filepath.Join(o.llama7b, "config.json")); err != nil {
				p.Skip = fmt.Sprintf("no checkpoint in %q (make it with scripts/make_llama7b.py, or pass -llama7b)", o.llama7b)
			}
		case "gpt2", "roberta":
			p.Opts.Batch, p.Opts.Seq = o.clsBatch, o.clsSeq
		case "smollm2":
			p.Opts.Batch, p.Opts.Seq = o.llamaBatch, o.llamaSeq
		case "mmlu":
			p.Unit = "prompts"
			p.Opts.Batch, p.Opts.Warmup, p.Opts.Steps = 1, 2, o.prompts
			p.Opts.Prompts = filepath.Join(o.outDir, "mmlu_prompts.json")
		}
		if name == "mmlu" {
			p.Title = fmt.Sprintf("%d prompts %d-shot, %d warm-up", o.prompts, o.shots, p.Opts.Warmup)
		} else {
			p.Title = fmt.Sprintf("B=%d T=%d, %d warm-up + %d steps", p.Opts.Batch, p.Opts.Seq, p.Opts.Warmup, p.Opts.Steps)
		}
		if o.device != "cpu" || o.dtype != "float32" {
			p.Title += fmt.Sprintf(", %s %s", o.device, o.dtype)
		}
		if (name == "smollm2" || name == "mmlu") && o.gguf == "" {
			p.Skip = "SmolLM2 GGUF file not found (pass -gguf)"
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no rows to run")
	}
	return out, nil
}

// Args returns the command-line flags that make a Go worker run o.
func (o WorkerOptions) Args() []string {
	a := []string{"-worker", o.Row, "-batch", fmt.Sprint(o.Batch), "-seq", fmt.Sprint(o.Seq),
		"-warmup", fmt.Sprint(o.Warmup), "-steps", fmt.Sprint(o.Steps), "-threads", fmt.Sprint(o.Threads)}
	if o.GGUF != "" {
		a = append(a, "-gguf", o.GGUF)
	}
	if o.Prompts != "" {
		a = append(a, "-prompt-file", o.Prompts)
	}
	return append(a, o.shared("-")...)
}

// shared returns the flags both stacks take alike, with the given prefix ("-" or "--").
func (o WorkerOptions) shared(dash string) []string {
	var a []string
	if o.Device != "" {
		a = append(a, dash+"device", o.Device)
	}
	if o.DType != "" {
		a = append(a, dash+"dtype", o.DType)
	}
	if o.Model != "" {
		a = append(a, dash+"model", o.Model)
	}
	if o.GradCkpt {
		a = append(a, dash+"grad-checkpoint")
	}
	return a
}

// PeerArgs returns the arguments of bench_peer.py for o.
func (o WorkerOptions) PeerArgs() []string {
	a := []string{o.Row, "--batch", fmt.Sprint(o.Batch), "--seq", fmt.Sprint(o.Seq),
		"--warmup", fmt.Sprint(o.Warmup), "--steps", fmt.Sprint(o.Steps), "--threads", fmt.Sprint(o.Threads)}
	if o.GGUF != "" {
		a = append(a, "--gguf", o.GGUF)
	}
	if o.Prompts != "" {
		a = append(a, "--prompts", o.Prompts)
	}
	return append(a, o.shared("--")...)
}
